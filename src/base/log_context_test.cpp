#include "base/log_context.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <boost/json/parse.hpp>
#include <sstream>

#include "base/log.h"

namespace confab::base {
namespace {

const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1765119600123));

// Captures what the default logger writes while alive.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

TEST(CallLog, EveryLineCarriesTheCallIdInFront) {
  CapturedLog captured;
  CallLog log("a84b4c76e66710@pc33.example.com");
  log.info("participant {}: joined", "p1");
  log.warn("left ({} {})", 487, "Request Terminated");
  log.debug("not written at info");
  EXPECT_EQ(captured.text(),
            "info [call-id=a84b4c76e66710@pc33.example.com] participant p1: joined\n"
            "warning [call-id=a84b4c76e66710@pc33.example.com] left (487 Request Terminated)\n");
}

TEST(CallLog, NoPrefixUntilACallIdIsKnownThenEachDialogOnce) {
  CapturedLog captured;
  CallLog log;
  EXPECT_EQ(log.prefix(), "");
  log.info("before");
  log.add_call_id("");
  log.add_call_id("dev-1@host");
  log.add_call_id("dev-1@host");
  log.add_call_id("target-2@host");
  log.add_call_id("target-2@host");
  EXPECT_EQ(log.call_ids(), "dev-1@host,target-2@host");
  log.info("after");
  EXPECT_EQ(captured.text(), "info before\ninfo [call-id=dev-1@host,target-2@host] after\n");
  log.set_call_id("new@host");
  EXPECT_EQ(log.prefix(), "[call-id=new@host] ");
}

TEST(CallLog, SpacesAndCommasInACallIdCannotBreakThePrefix) {
  CallLog log("a b,c");
  EXPECT_EQ(log.prefix(), "[call-id=a_b_c] ");
  std::string line = log.prefix() + "text";
  auto split = split_call_log_prefix(line);
  ASSERT_TRUE(split.call_id);
  EXPECT_EQ(*split.call_id, "a_b_c");
  EXPECT_EQ(split.text, "text");
}

TEST(CallLog, ThePrefixIsTakenApartAgain) {
  auto split = split_call_log_prefix("[call-id=x]y@h] conference 1: joined");  // ']' may be in a Call-ID
  ASSERT_TRUE(split.call_id);
  EXPECT_EQ(*split.call_id, "x]y@h");
  EXPECT_EQ(split.text, "conference 1: joined");
  for (std::string_view plain : {"conference 1 created", "[call-id=] x", "[call-id=abc", "[call-id=abc x] y", ""}) {
    auto s = split_call_log_prefix(plain);
    EXPECT_FALSE(s.call_id) << plain;
    EXPECT_EQ(s.text, plain);
  }
}

TEST(CallLog, JsonLinesHaveACallIdFieldAndTheMessageWithoutThePrefix) {
  CallLog log("a84b@pc33");
  auto line = format_log_line(LogFormat::Json, "conference", spdlog::level::info, kTime, log.prefix() + "joined");
  auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("call_id").as_string(), "a84b@pc33");
  EXPECT_EQ(v.at("message").as_string(), "joined");
  auto plain = boost::json::parse(format_log_line(LogFormat::Json, "conference", spdlog::level::info, kTime, "up"));
  EXPECT_FALSE(plain.as_object().contains("call_id"));
  EXPECT_EQ(format_log_line(LogFormat::Journal, "mixer", spdlog::level::info, kTime, log.prefix() + "x"),
            "<6>mixer: [call-id=a84b@pc33] x");
}

}  // namespace
}  // namespace confab::base
