// Digest authentication of SIP requests (RFC 3261 section 22, RFC 7616 hashes,
// RFC 8760 SHA-256 for SIP). Users live in the proxy's SQLite file, stored as
// HA1 hashes (never plain passwords). Nonces are stateless: a timestamp signed
// with a per-process HMAC key, valid for a limited time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/sqlite.h"
#include "sip/message.h"

namespace confab::proxy {

struct UserRecord {
  std::string username;
  std::string realm;
  std::string ha1_md5;
  std::string ha1_sha256;
};

class UserStore {
 public:
  // The file is created 0600 if needed (it holds password hashes); with
  // Open::ExistingOnly a missing file is an error ("no database at PATH").
  explicit UserStore(const std::string& db_path,
                     base::SqliteDatabase::Open mode = base::SqliteDatabase::Open::CreatePrivate);
  void add(const std::string& username, const std::string& realm, const std::string& password);
  bool remove(const std::string& username, const std::string& realm);
  std::optional<UserRecord> find(const std::string& username, const std::string& realm);
  std::vector<UserRecord> list();
  // The realms `username` exists under (to tell a realm mismatch from an unknown user).
  std::vector<std::string> realms_of(const std::string& username);
  size_t count_in_realm(const std::string& realm);
  // The realm the proxy challenges with, recorded at its start so `adduser` can default to it.
  void record_challenge_realm(const std::string& realm);
  std::optional<std::string> challenge_realm();

 private:
  base::SqliteDatabase db_;
};

enum class DigestAlgorithm { Md5, Sha256 };

// "MD5" / "SHA-256" (any case); nullopt for anything else.
std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name);
std::string_view digest_algorithm_name(DigestAlgorithm algorithm);

// Hex digest of `data` (MD5 or SHA-256), the building block of HA1/HA2/response.
std::string digest_hex(DigestAlgorithm algorithm, std::string_view data);

class DigestAuthenticator {
 public:
  // Missing: no credentials for our realm (the first request: challenge it).
  // Malformed: a field missing, or an algorithm/qop we do not offer.
  // Stale: right password, expired nonce; ForeignNonce: right password, a nonce this
  // process did not make (it restarted since): both are challenged again with stale=true.
  // UnknownUser: no such user in any realm; RealmMismatch: the user exists, but only
  // under other realms (`other_realms`); WrongPassword: the response does not match.
  enum class Verdict { Ok, Missing, Malformed, ForeignNonce, Stale, UnknownUser, RealmMismatch, WrongPassword };
  struct Result {
    Verdict verdict = Verdict::Missing;
    std::string username;
    std::vector<std::string> other_realms;  // for RealmMismatch
  };

  // `offered`: the algorithms put in challenges, in order of preference. Credentials
  // computed with either algorithm are accepted whatever is offered.
  DigestAuthenticator(UserStore& users, std::string realm, std::vector<DigestAlgorithm> offered,
                      int64_t nonce_ttl_seconds = 300);

  // WWW-Authenticate (proxy=false, for 401) or Proxy-Authenticate (407) headers:
  // one per offered algorithm, most preferred first (RFC 8760 section 2.4).
  std::vector<sip::HeaderField> challenge(bool proxy, bool stale, int64_t now) const;
  // Checks the request's credentials for this realm.
  Result verify(const sip::Message& request, bool proxy, int64_t now);
  const std::string& realm() const { return realm_; }

 private:
  std::string make_nonce(int64_t now) const;
  // 1 = valid, 0 = stale, -1 = forged/garbled
  int check_nonce(const std::string& nonce, int64_t now) const;

  UserStore& users_;
  std::string realm_;
  std::vector<DigestAlgorithm> offered_;
  int64_t nonce_ttl_;
  std::string key_;
};

}  // namespace confab::proxy
