// Why the proxy refused credentials, told so an operator can act on it (which
// user, which realm, what to run), and counted for the stop summary.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/digest_auth.h"

namespace confab::proxy {

enum class AuthFailure {
  UnknownUser,    // no such user in any realm
  RealmMismatch,  // the user exists, but under other realms only
  WrongPassword,
  StaleNonce,     // right password, expired nonce: challenged again (stale=true), the client retries
  ForeignNonce,   // right password, a nonce from before a restart: challenged again (stale=true)
  Malformed,      // a field missing, or an algorithm/qop not offered
  UserMismatch,   // authenticated as one user, registering/calling as another (To/From)
};
inline constexpr size_t kAuthFailureKinds = 7;

// The failure a verdict stands for; nullopt for Ok and Missing (a first request is challenged, not refused).
std::optional<AuthFailure> auth_failure_of(DigestAuthenticator::Verdict verdict);
// "unknown user", "realm mismatch", "wrong password", "stale nonce", ...
std::string_view auth_failure_name(AuthFailure failure);
// Whether a client with the right password meets it in normal operation (logged at info, not as a warning).
bool is_routine(AuthFailure failure);

// The cause and what to do, for the log line after "authentication failed for user 'NAME': ".
// `realm` is the one the proxy challenges with, `db_path` its database (for the adduser hint).
std::string describe_auth_failure(AuthFailure failure, const DigestAuthenticator::Result& result,
                                  const std::string& realm, const std::string& db_path);

// The command that adds `user` for `realm` to the database at `db_path` (the password read from stdin or a prompt).
std::string adduser_hint(const std::string& db_path, const std::string& realm, const std::string& user);

class AuthFailureCounts {
 public:
  void add(AuthFailure failure) { ++counts_[static_cast<size_t>(failure)]; }
  uint64_t count(AuthFailure failure) const { return counts_[static_cast<size_t>(failure)]; }
  uint64_t total() const;
  // "2 wrong password, 1 realm mismatch" (each cause seen, in the order of the enum), or "none".
  std::string summary() const;

 private:
  std::array<uint64_t, kAuthFailureKinds> counts_{};
};

}  // namespace confab::proxy
