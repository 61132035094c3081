#include "http/metrics_page.h"

#include <gtest/gtest.h>

namespace confab::http {
namespace {

TEST(MetricsPage, WritesHelpTypeAndLabelledSamples) {
  MetricsPage page;
  page.counter("confab_test_requests_total", "requests received", 3, {{"method", "INVITE"}});
  page.counter("confab_test_requests_total", "requests received", 5, {{"method", "REGISTER"}});
  page.gauge("confab_test_calls", "calls now", 2);
  auto text = page.text();
  EXPECT_NE(text.find("# HELP confab_test_requests_total requests received\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE confab_test_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("confab_test_requests_total{method=\"INVITE\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("confab_test_requests_total{method=\"REGISTER\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE confab_test_calls gauge\nconfab_test_calls 2\n"), std::string::npos) << text;
}

TEST(MetricsPage, EscapesLabelValues) {
  MetricsPage page;
  page.counter("confab_test_total", "x", 1, {{"method", "A\"B\\C\nD"}});
  EXPECT_NE(page.text().find("{method=\"A\\\"B\\\\C\\nD\"} 1"), std::string::npos) << page.text();
}

TEST(MetricsPage, RefusesOneNameAsTwoTypes) {
  MetricsPage page;
  page.counter("confab_test_total", "x", 1);
  EXPECT_THROW(page.gauge("confab_test_total", "x", 1), std::logic_error);
}

}  // namespace
}  // namespace confab::http
