// The leave grace of web origins: what ends a call, what keeps it.
#include "service/api/web_leave_grace.h"

#include <gtest/gtest.h>

#include <vector>

namespace confab::service {
namespace {

using namespace std::chrono_literals;

class WebLeaveGraceTest : public ::testing::Test {
 protected:
  WebLeaveGrace& grace(std::chrono::milliseconds g = 60ms) {
    grace_ = std::make_unique<WebLeaveGrace>(loop_, g, [this](const std::string& call, const std::string& origin) {
      ended_.push_back(call + " " + origin);
    });
    return *grace_;
  }
  sip::EventLoop loop_;
  std::unique_ptr<WebLeaveGrace> grace_;
  std::vector<std::string> ended_;
  const std::string site_ = "https://films.example";
};

TEST_F(WebLeaveGraceTest, TheLastPageClosingEndsTheCallAfterTheGrace) {
  auto& g = grace();
  g.page_opened(site_);
  g.page_opened(site_);
  g.call_taken("c1", site_);
  g.page_closed(site_);
  EXPECT_FALSE(g.leaving(site_));  // another tab of the site is open
  g.page_closed(site_);
  EXPECT_TRUE(g.leaving(site_));
  loop_.run_for(30ms);
  EXPECT_TRUE(ended_.empty());
  loop_.run_for(80ms);
  EXPECT_EQ(ended_, (std::vector<std::string>{"c1 " + site_}));
  EXPECT_FALSE(g.leaving(site_));
}

TEST_F(WebLeaveGraceTest, APageOfTheOriginConnectingWithinTheGraceKeepsTheCall) {
  auto& g = grace();
  g.page_opened(site_);
  g.call_taken("c1", site_);
  g.page_closed(site_);  // a navigation: the old page goes, the new one comes
  loop_.run_for(20ms);
  g.page_opened(site_);
  EXPECT_FALSE(g.leaving(site_));
  loop_.run_for(100ms);
  EXPECT_TRUE(ended_.empty());
  g.page_closed(site_);  // then the tab is closed
  loop_.run_for(100ms);
  EXPECT_EQ(ended_, (std::vector<std::string>{"c1 " + site_}));
}

TEST_F(WebLeaveGraceTest, AGraceOfZeroNeverEndsACall) {
  auto& g = grace(0ms);
  g.page_opened(site_);
  g.call_taken("c1", site_);
  g.page_closed(site_);
  EXPECT_FALSE(g.leaving(site_));
  loop_.run_for(50ms);
  EXPECT_TRUE(ended_.empty());
}

TEST_F(WebLeaveGraceTest, ACallThatIsUpAfterItsPageLeftStillGetsTheGrace) {
  auto& g = grace();
  g.page_opened(site_);
  g.page_closed(site_);
  EXPECT_FALSE(g.leaving(site_));  // no call yet
  g.call_taken("c1", site_);
  EXPECT_TRUE(g.leaving(site_));
  loop_.run_for(100ms);
  EXPECT_EQ(ended_, (std::vector<std::string>{"c1 " + site_}));
}

TEST_F(WebLeaveGraceTest, ACallTakenByAProgramOrAnotherSiteIsNotEndedWithTheFirstSite) {
  auto& g = grace();
  const std::string other = "https://forum.example";
  g.page_opened(site_);
  g.page_opened(other);
  g.call_taken("c1", site_);
  g.call_taken("c2", site_);
  g.call_taken("c1", other);  // another site's page moved c1
  g.call_taken("c2", "");     // a local program moved c2
  g.page_closed(site_);
  EXPECT_FALSE(g.leaving(site_));
  loop_.run_for(100ms);
  EXPECT_TRUE(ended_.empty());
  g.page_closed(other);
  loop_.run_for(100ms);
  EXPECT_EQ(ended_, (std::vector<std::string>{"c1 " + other}));
}

TEST_F(WebLeaveGraceTest, ACallThatEndedWithinTheGraceIsForgotten) {
  auto& g = grace();
  g.page_opened(site_);
  g.call_taken("c1", site_);
  g.page_closed(site_);
  g.call_ended("c1");
  EXPECT_FALSE(g.leaving(site_));
  loop_.run_for(100ms);
  EXPECT_TRUE(ended_.empty());
  g.page_closed(site_);  // a close the grace never saw opening is ignored
  EXPECT_FALSE(g.leaving(site_));
}

}  // namespace
}  // namespace confab::service
