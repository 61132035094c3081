#include "proxy/digest_auth.h"

#include <gtest/gtest.h>

using namespace confab::proxy;
using confab::sip::Message;

namespace {

std::string param(const std::string& header, const std::string& name) {
  auto p = header.find(name + "=\"");
  if (p == std::string::npos) return {};
  p += name.size() + 2;
  return header.substr(p, header.find('"', p) - p);
}

Message register_with(const std::string& authorization) {
  std::string text =
      "REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
      "To: <sip:alice@example.com>\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n" +
      (authorization.empty() ? "" : "Authorization: " + authorization + "\r\n") + "Content-Length: 0\r\n\r\n";
  return *Message::parse(text);
}

std::string answer(DigestAlgorithm alg, const std::string& nonce, const std::string& password,
                   const std::string& algname) {
  std::string ha1 = digest_hex(alg, "alice:example.com:" + password);
  std::string ha2 = digest_hex(alg, "REGISTER:sip:example.com");
  std::string resp = digest_hex(alg, ha1 + ":" + nonce + ":00000001:abc:auth:" + ha2);
  return "Digest username=\"alice\", realm=\"example.com\", nonce=\"" + nonce +
         "\", uri=\"sip:example.com\", response=\"" + resp + "\", algorithm=" + algname +
         ", qop=auth, nc=00000001, cnonce=\"abc\"";
}

class DigestTest : public ::testing::Test {
 protected:
  UserStore users{":memory:"};
  DigestAuthenticator auth{users, "example.com", {DigestAlgorithm::Sha256, DigestAlgorithm::Md5}, 300};
  void SetUp() override { users.add("alice", "example.com", "secret"); }
};

}  // namespace

TEST(DigestHex, KnownVectors) {
  EXPECT_EQ(digest_hex(DigestAlgorithm::Md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(digest_hex(DigestAlgorithm::Sha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(DigestTest, ChallengeOffersSha256ThenMd5) {
  auto h = auth.challenge(false, false, 1000);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].name, "WWW-Authenticate");
  EXPECT_NE(h[0].value.find("algorithm=SHA-256"), std::string::npos);
  EXPECT_NE(h[1].value.find("algorithm=MD5"), std::string::npos);
  EXPECT_EQ(auth.challenge(true, true, 1000)[0].name, "Proxy-Authenticate");
  EXPECT_NE(auth.challenge(true, true, 1000)[0].value.find("stale=true"), std::string::npos);
}

TEST(DigestChallenge, OffersOnlyConfiguredAlgorithms) {
  UserStore users(":memory:");
  DigestAuthenticator md5_only(users, "r", {DigestAlgorithm::Md5});
  auto h = md5_only.challenge(false, false, 1);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_NE(h[0].value.find("algorithm=MD5"), std::string::npos);
  EXPECT_EQ(parse_digest_algorithm("sha-256"), DigestAlgorithm::Sha256);
  EXPECT_FALSE(parse_digest_algorithm("SHA-512-256"));
}

TEST_F(DigestTest, AcceptsCorrectResponsesForBothAlgorithms) {
  auto nonce = param(auth.challenge(false, false, 1000)[0].value, "nonce");
  auto r = auth.verify(register_with(answer(DigestAlgorithm::Sha256, nonce, "secret", "SHA-256")), false, 1010);
  EXPECT_EQ(r.verdict, DigestAuthenticator::Verdict::Ok);
  EXPECT_EQ(r.username, "alice");
  r = auth.verify(register_with(answer(DigestAlgorithm::Md5, nonce, "secret", "MD5")), false, 1010);
  EXPECT_EQ(r.verdict, DigestAuthenticator::Verdict::Ok);
}

TEST_F(DigestTest, EachFailureHasItsCause) {
  auto nonce = param(auth.challenge(false, false, 1000)[0].value, "nonce");
  using V = DigestAuthenticator::Verdict;
  EXPECT_EQ(auth.verify(register_with(answer(DigestAlgorithm::Md5, nonce, "wrong", "MD5")), false, 1010).verdict,
            V::WrongPassword);
  EXPECT_EQ(auth.verify(register_with(answer(DigestAlgorithm::Md5, "1000.00ff", "secret", "MD5")), false, 1010).verdict,
            V::ForeignNonce);
  EXPECT_EQ(auth.verify(register_with(answer(DigestAlgorithm::Md5, "1000.00ff", "wrong", "MD5")), false, 1010).verdict,
            V::WrongPassword);
  EXPECT_EQ(auth.verify(register_with(answer(DigestAlgorithm::Md5, nonce, "secret", "MD5-sess")), false, 1010).verdict,
            V::Malformed);
  EXPECT_EQ(auth.verify(register_with(""), false, 1010).verdict, V::Missing);
  users.remove("alice", "example.com");
  auto unknown = auth.verify(register_with(answer(DigestAlgorithm::Md5, nonce, "secret", "MD5")), false, 1010);
  EXPECT_EQ(unknown.verdict, V::UnknownUser);
  EXPECT_EQ(unknown.username, "alice");
}

TEST_F(DigestTest, UserOfAnotherRealmIsARealmMismatchNamingThatRealm) {
  users.remove("alice", "example.com");
  users.add("alice", "127.0.0.1", "secret");
  users.add("alice", "other.example", "secret");
  auto nonce = param(auth.challenge(false, false, 1000)[0].value, "nonce");
  auto r = auth.verify(register_with(answer(DigestAlgorithm::Md5, nonce, "secret", "MD5")), false, 1010);
  EXPECT_EQ(r.verdict, DigestAuthenticator::Verdict::RealmMismatch);
  EXPECT_EQ(r.other_realms, (std::vector<std::string>{"127.0.0.1", "other.example"}));
}

TEST(UserStore, CountsUsersByRealmAndRecordsTheChallengeRealm) {
  UserStore users(":memory:");
  EXPECT_EQ(users.count_in_realm("example.com"), 0u);
  EXPECT_FALSE(users.challenge_realm());
  users.add("alice", "example.com", "a");
  users.add("bob", "example.com", "b");
  users.add("bob", "127.0.0.1", "b");
  EXPECT_EQ(users.count_in_realm("example.com"), 2u);
  EXPECT_EQ(users.realms_of("bob"), (std::vector<std::string>{"127.0.0.1", "example.com"}));
  users.record_challenge_realm("example.com");
  users.record_challenge_realm("example.org");
  EXPECT_EQ(users.challenge_realm(), "example.org");
}

TEST_F(DigestTest, OldNonceIsStale) {
  auto nonce = param(auth.challenge(false, false, 1000)[0].value, "nonce");
  EXPECT_EQ(auth.verify(register_with(answer(DigestAlgorithm::Md5, nonce, "secret", "MD5")), false, 1400).verdict,
            DigestAuthenticator::Verdict::Stale);
}
