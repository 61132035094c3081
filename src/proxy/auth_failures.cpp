#include "proxy/auth_failures.h"

namespace confab::proxy {

namespace {

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (auto& i : items) out += (out.empty() ? "'" : ", '") + i + "'";
  return out;
}

// A shell word: quoted when it holds anything but safe characters.
std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/:@+=,_") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::optional<AuthFailure> auth_failure_of(DigestAuthenticator::Verdict verdict) {
  using V = DigestAuthenticator::Verdict;
  switch (verdict) {
    case V::Ok:
    case V::Missing:
      return std::nullopt;
    case V::Malformed:
      return AuthFailure::Malformed;
    case V::ForeignNonce:
      return AuthFailure::ForeignNonce;
    case V::Stale:
      return AuthFailure::StaleNonce;
    case V::UnknownUser:
      return AuthFailure::UnknownUser;
    case V::RealmMismatch:
      return AuthFailure::RealmMismatch;
    case V::WrongPassword:
      return AuthFailure::WrongPassword;
  }
  return std::nullopt;
}

std::string_view auth_failure_name(AuthFailure failure) {
  switch (failure) {
    case AuthFailure::UnknownUser: return "unknown user";
    case AuthFailure::RealmMismatch: return "realm mismatch";
    case AuthFailure::WrongPassword: return "wrong password";
    case AuthFailure::StaleNonce: return "stale nonce";
    case AuthFailure::ForeignNonce: return "nonce from before a restart";
    case AuthFailure::Malformed: return "malformed credentials";
    case AuthFailure::UserMismatch: return "user mismatch";
  }
  return "?";
}

bool is_routine(AuthFailure failure) {
  return failure == AuthFailure::StaleNonce || failure == AuthFailure::ForeignNonce;
}

std::string adduser_hint(const std::string& db_path, const std::string& realm, const std::string& user) {
  return "confab proxy --db " + shell_word(db_path) + " adduser --realm " + shell_word(realm) + " " + shell_word(user);
}

std::string describe_auth_failure(AuthFailure failure, const DigestAuthenticator::Result& result,
                                  const std::string& realm, const std::string& db_path) {
  switch (failure) {
    case AuthFailure::UnknownUser:
      return "unknown user: no user '" + result.username + "' in " + db_path + " (realm '" + realm +
             "'); add one with: " + adduser_hint(db_path, realm, result.username);
    case AuthFailure::RealmMismatch:
      return "realm mismatch: the user exists under realm " + quoted_list(result.other_realms) +
             " but the proxy challenges with realm '" + realm + "'; add the user for this realm with: " +
             adduser_hint(db_path, realm, result.username);
    case AuthFailure::WrongPassword:
      return "wrong password (realm '" + realm + "')";
    case AuthFailure::StaleNonce:
      return "stale nonce (expired): challenged again with stale=true";
    case AuthFailure::ForeignNonce:
      return "nonce not made by this proxy process (it restarted since): challenged again with stale=true";
    case AuthFailure::Malformed:
      return "malformed credentials: a field is missing, or an algorithm or qop the proxy does not offer";
    case AuthFailure::UserMismatch:
      return "user mismatch";
  }
  return "?";
}

uint64_t AuthFailureCounts::total() const {
  uint64_t n = 0;
  for (auto c : counts_) n += c;
  return n;
}

std::string AuthFailureCounts::summary() const {
  std::string out;
  for (size_t i = 0; i < kAuthFailureKinds; ++i)
    if (counts_[i])
      out += (out.empty() ? "" : ", ") + std::to_string(counts_[i]) + " " +
             std::string(auth_failure_name(static_cast<AuthFailure>(i)));
  return out.empty() ? "none" : out;
}

}  // namespace confab::proxy
