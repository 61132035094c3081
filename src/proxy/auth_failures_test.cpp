#include "proxy/auth_failures.h"

#include <gtest/gtest.h>

using namespace confab::proxy;
using V = DigestAuthenticator::Verdict;

TEST(AuthFailures, OkAndMissingAreNoFailures) {
  EXPECT_FALSE(auth_failure_of(V::Ok));
  EXPECT_FALSE(auth_failure_of(V::Missing));
  EXPECT_EQ(auth_failure_of(V::WrongPassword), AuthFailure::WrongPassword);
  EXPECT_EQ(auth_failure_of(V::RealmMismatch), AuthFailure::RealmMismatch);
  EXPECT_EQ(auth_failure_of(V::Stale), AuthFailure::StaleNonce);
}

TEST(AuthFailures, RealmMismatchNamesBothRealmsAndTheCommandThatFixesIt) {
  DigestAuthenticator::Result r{V::RealmMismatch, "alice", {"127.0.0.1"}};
  EXPECT_EQ(describe_auth_failure(AuthFailure::RealmMismatch, r, "example.com", "/var/lib/confab/proxy.db"),
            "realm mismatch: the user exists under realm '127.0.0.1' but the proxy challenges with realm "
            "'example.com'; add the user for this realm with: confab proxy --db /var/lib/confab/proxy.db adduser "
            "--realm example.com alice");
}

TEST(AuthFailures, UnknownUserAndWrongPasswordAreToldApart) {
  DigestAuthenticator::Result r{V::UnknownUser, "carol", {}};
  EXPECT_EQ(describe_auth_failure(AuthFailure::UnknownUser, r, "example.com", "proxy.db"),
            "unknown user: no user 'carol' in proxy.db (realm 'example.com'); add one with: confab proxy --db "
            "proxy.db adduser --realm example.com carol");
  EXPECT_EQ(describe_auth_failure(AuthFailure::WrongPassword, r, "example.com", "proxy.db"),
            "wrong password (realm 'example.com')");
}

TEST(AuthFailures, HintQuotesWhatTheShellWouldSplit) {
  EXPECT_EQ(adduser_hint("my db.sqlite", "it's", "bob"), "confab proxy --db 'my db.sqlite' adduser --realm 'it'\\''s' bob");
}

TEST(AuthFailures, SummaryCountsEachCauseSeen) {
  AuthFailureCounts counts;
  EXPECT_EQ(counts.summary(), "none");
  counts.add(AuthFailure::WrongPassword);
  counts.add(AuthFailure::RealmMismatch);
  counts.add(AuthFailure::WrongPassword);
  counts.add(AuthFailure::UnknownUser);
  EXPECT_EQ(counts.total(), 4u);
  EXPECT_EQ(counts.summary(), "1 unknown user, 1 realm mismatch, 2 wrong password");
}
