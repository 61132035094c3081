#include "sip/registration_status.h"

#include <gtest/gtest.h>

using confab::sip::describe_registration;

TEST(RegistrationStatus, RefusedCredentialsAreA401NotSofias904) {
  auto s = describe_registration(904, "Operation has no matching challenge ", true);
  EXPECT_EQ(s.status, 401);
  EXPECT_EQ(s.reason, "authentication failed: wrong password or realm");
  EXPECT_FALSE(s.ok());
}

TEST(RegistrationStatus, NoCredentialsForAChallengeSaysWhichOptionsToGive) {
  auto s = describe_registration(401, "Unauthorized", false);
  EXPECT_EQ(s.status, 401);
  EXPECT_EQ(s.reason, "authentication required: give --user and --password-file (or --password)");
}

TEST(RegistrationStatus, OtherInternalCodesBecomeA500AndKeepTheirText) {
  auto s = describe_registration(900, "Internal error at nua.c:123", false);
  EXPECT_EQ(s.status, 500);
  EXPECT_EQ(s.reason, "internal error of the SIP stack: Internal error at nua.c:123");
}

TEST(RegistrationStatus, RealStatusesPassThrough) {
  EXPECT_TRUE(describe_registration(200, "OK", true).ok());
  EXPECT_EQ(describe_registration(403, "Username Does Not Match To", true).reason, "Username Does Not Match To");
  EXPECT_EQ(describe_registration(408, "Request Timeout", true).reason, "no answer from the registrar (Request Timeout)");
}
