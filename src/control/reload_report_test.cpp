#include "control/reload_report.h"

#include <gtest/gtest.h>

using confab::control::ReloadReport;

TEST(ReloadReport, SaysWhatWasAppliedAndWhatNeedsARestart) {
  ReloadReport r;
  EXPECT_EQ(r.text(), "nothing that can change live has changed");
  r.applied_if(false, "domains");
  r.restart_if(true, "listen");
  EXPECT_EQ(r.text(), "nothing that can change live has changed; changed but needs a restart: listen");
  r.applied_if(true, "routes");
  r.applied_if(true, "record_route");
  EXPECT_EQ(r.text(), "applied: routes, record_route; changed but needs a restart: listen");
}
