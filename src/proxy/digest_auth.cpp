#include "proxy/digest_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>

#include <stdexcept>
#include <strings.h>

#include "base/random.h"

namespace confab::proxy {

namespace {

std::string to_hex(const unsigned char* data, size_t len) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    s += digits[data[i] >> 4];
    s += digits[data[i] & 15];
  }
  return s;
}

bool equal_constant_time(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name) {
  if (strncasecmp(name.data(), "MD5", name.size()) == 0 && name.size() == 3) return DigestAlgorithm::Md5;
  if (strncasecmp(name.data(), "SHA-256", name.size()) == 0 && name.size() == 7) return DigestAlgorithm::Sha256;
  return std::nullopt;
}

std::string_view digest_algorithm_name(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::Md5 ? "MD5" : "SHA-256";
}

std::string digest_hex(DigestAlgorithm algorithm, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const EVP_MD* md = algorithm == DigestAlgorithm::Md5 ? EVP_md5() : EVP_sha256();
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) throw std::runtime_error("digest failed");
  return to_hex(out, len);
}

UserStore::UserStore(const std::string& db_path, base::SqliteDatabase::Open mode) : db_(db_path, mode) {
  db_.exec(
      "CREATE TABLE IF NOT EXISTS users (username TEXT NOT NULL, realm TEXT NOT NULL, ha1_md5 TEXT NOT NULL,"
      " ha1_sha256 TEXT NOT NULL, PRIMARY KEY (username, realm))");
  db_.exec("CREATE TABLE IF NOT EXISTS proxy_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
}

std::vector<std::string> UserStore::realms_of(const std::string& username) {
  auto s = db_.prepare("SELECT realm FROM users WHERE username = ? ORDER BY realm");
  s.bind(1, username);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

size_t UserStore::count_in_realm(const std::string& realm) {
  auto s = db_.prepare("SELECT COUNT(*) FROM users WHERE realm = ?");
  s.bind(1, realm);
  return s.step() ? static_cast<size_t>(s.integer(0)) : 0;
}

void UserStore::record_challenge_realm(const std::string& realm) {
  auto s = db_.prepare("INSERT OR REPLACE INTO proxy_settings (name, value) VALUES ('challenge_realm', ?)");
  s.bind(1, realm);
  s.run();
}

std::optional<std::string> UserStore::challenge_realm() {
  auto s = db_.prepare("SELECT value FROM proxy_settings WHERE name = 'challenge_realm'");
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void UserStore::add(const std::string& username, const std::string& realm, const std::string& password) {
  std::string a1 = username + ":" + realm + ":" + password;
  auto s = db_.prepare("INSERT OR REPLACE INTO users (username, realm, ha1_md5, ha1_sha256) VALUES (?,?,?,?)");
  s.bind(1, username).bind(2, realm).bind(3, digest_hex(DigestAlgorithm::Md5, a1));
  s.bind(4, digest_hex(DigestAlgorithm::Sha256, a1));
  s.run();
}

bool UserStore::remove(const std::string& username, const std::string& realm) {
  auto s = db_.prepare("DELETE FROM users WHERE username = ? AND realm = ?");
  s.bind(1, username).bind(2, realm);
  s.run();
  return db_.changes() > 0;
}

std::optional<UserRecord> UserStore::find(const std::string& username, const std::string& realm) {
  auto s = db_.prepare("SELECT username, realm, ha1_md5, ha1_sha256 FROM users WHERE username = ? AND realm = ?");
  s.bind(1, username).bind(2, realm);
  if (!s.step()) return std::nullopt;
  return UserRecord{s.text(0), s.text(1), s.text(2), s.text(3)};
}

std::vector<UserRecord> UserStore::list() {
  auto s = db_.prepare("SELECT username, realm, ha1_md5, ha1_sha256 FROM users ORDER BY realm, username");
  std::vector<UserRecord> out;
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3)});
  return out;
}

DigestAuthenticator::DigestAuthenticator(UserStore& users, std::string realm, std::vector<DigestAlgorithm> offered,
                                         int64_t nonce_ttl_seconds)
    : users_(users), realm_(std::move(realm)), offered_(std::move(offered)), nonce_ttl_(nonce_ttl_seconds) {
  if (offered_.empty()) offered_.push_back(DigestAlgorithm::Md5);
  key_.resize(32);
  base::random_bytes(key_.data(), key_.size());
}

std::string DigestAuthenticator::make_nonce(int64_t now) const {
  std::string ts = std::to_string(now);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), reinterpret_cast<const unsigned char*>(ts.data()),
       ts.size(), mac, &len);
  return ts + "." + to_hex(mac, 16);
}

int DigestAuthenticator::check_nonce(const std::string& nonce, int64_t now) const {
  auto dot = nonce.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 20) return -1;
  int64_t ts = 0;
  for (size_t i = 0; i < dot; ++i) {
    if (nonce[i] < '0' || nonce[i] > '9') return -1;
    ts = ts * 10 + (nonce[i] - '0');
  }
  if (!equal_constant_time(make_nonce(ts), nonce)) return -1;
  if (ts > now + 5 || now - ts > nonce_ttl_) return 0;
  return 1;
}

std::vector<sip::HeaderField> DigestAuthenticator::challenge(bool proxy, bool stale, int64_t now) const {
  std::string name = proxy ? "Proxy-Authenticate" : "WWW-Authenticate";
  std::string common = "Digest realm=\"" + realm_ + "\", nonce=\"" + make_nonce(now) + "\", qop=\"auth\"";
  if (stale) common += ", stale=true";
  std::vector<sip::HeaderField> out;
  for (auto a : offered_) out.push_back({name, common + ", algorithm=" + std::string(digest_algorithm_name(a))});
  return out;
}

DigestAuthenticator::Result DigestAuthenticator::verify(const sip::Message& request, bool proxy, int64_t now) {
  Result result;
  auto cred = request.credentials(proxy, realm_);
  if (!cred) return result;  // Missing
  result.username = cred->get("username");
  result.verdict = Verdict::Malformed;
  std::string algorithm_name = cred->get("algorithm");
  auto algorithm = algorithm_name.empty() ? DigestAlgorithm::Md5 : parse_digest_algorithm(algorithm_name);
  std::string nonce = cred->get("nonce"), uri = cred->get("uri"), response = cred->get("response");
  std::string qop = cred->get("qop");
  if (!algorithm || result.username.empty() || nonce.empty() || uri.empty() || response.empty()) return result;
  if (!qop.empty() && qop != "auth") return result;  // auth-int is not offered
  auto user = users_.find(result.username, realm_);
  if (!user) {
    result.other_realms = users_.realms_of(result.username);
    result.verdict = result.other_realms.empty() ? Verdict::UnknownUser : Verdict::RealmMismatch;
    return result;
  }
  const std::string& ha1 = *algorithm == DigestAlgorithm::Md5 ? user->ha1_md5 : user->ha1_sha256;
  std::string ha2 = digest_hex(*algorithm, std::string(request.method_name()) + ":" + uri);
  std::string expected =
      qop.empty() ? digest_hex(*algorithm, ha1 + ":" + nonce + ":" + ha2)
                  : digest_hex(*algorithm, ha1 + ":" + nonce + ":" + cred->get("nc") + ":" + cred->get("cnonce") + ":" +
                                               qop + ":" + ha2);
  std::string lower_response = response;
  for (auto& c : lower_response) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!equal_constant_time(expected, lower_response)) {
    result.verdict = Verdict::WrongPassword;
    return result;
  }
  // The password is right: only now does the nonce matter (one of ours before a
  // restart is "foreign": challenged again with stale=true, as an expired one).
  int nonce_state = check_nonce(nonce, now);
  result.verdict = nonce_state < 0 ? Verdict::ForeignNonce : nonce_state == 0 ? Verdict::Stale : Verdict::Ok;
  return result;
}

}  // namespace confab::proxy
