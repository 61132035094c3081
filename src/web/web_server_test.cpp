#include "web/web_server.h"

#include <gtest/gtest.h>

using namespace confab::web;

TEST(WebServer, ContentSecurityPolicyAllowsTheVisitorsService) {
  EXPECT_EQ(content_security_policy({{"127.0.0.1", 5066}}),
            "default-src 'self'; script-src 'self'; connect-src 'self' ws://127.0.0.1:5066 http://127.0.0.1:5066 "
            "ws://localhost:5066; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'");
  std::string two = content_security_policy({{"::1", 6000}, {"127.0.0.2", 6001}});
  EXPECT_NE(two.find("connect-src 'self' ws://[::1]:6000 http://[::1]:6000 ws://127.0.0.2:6001 http://127.0.0.2:6001;"),
            std::string::npos)
      << two;
}
