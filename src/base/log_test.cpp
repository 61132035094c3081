#include "base/log.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace confab::base {
namespace {

const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1765119600123));  // 2025-12-07 15:00:00.123Z

TEST(LogFormat, ParsesTheThreeNames) {
  EXPECT_EQ(parse_log_format("text"), LogFormat::Text);
  EXPECT_EQ(parse_log_format("json"), LogFormat::Json);
  EXPECT_EQ(parse_log_format("journal"), LogFormat::Journal);
  EXPECT_FALSE(parse_log_format("JSON"));
  EXPECT_FALSE(parse_log_format(""));
}

TEST(LogLevel, OnlyTheDocumentedNamesAreLevels) {
  EXPECT_EQ(parse_log_level("debug"), spdlog::level::debug);
  EXPECT_EQ(parse_log_level("warn"), spdlog::level::warn);
  EXPECT_EQ(parse_log_level("off"), spdlog::level::off);
  EXPECT_FALSE(parse_log_level("verbose"));
  EXPECT_FALSE(parse_log_level("DEBUG"));
  EXPECT_FALSE(parse_log_level("warning"));  // spdlog's own name for warn: not one of ours
}

TEST(LogFormat, JsonLinesAreOneValidObjectWhateverTheMessage) {
  std::string message = "call \"a\\b\"\nsecond line\x01 caf\xc3\xa9";
  auto line = format_log_line(LogFormat::Json, "proxy", spdlog::level::warn, kTime, message);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("time").as_string(), "2025-12-07T15:00:00.123Z");
  EXPECT_EQ(v.at("part").as_string(), "proxy");
  EXPECT_EQ(v.at("level").as_string(), "warning");
  EXPECT_EQ(std::string(v.at("message").as_string()), message);
}

TEST(LogFormat, JournalLinesCarryTheSyslogPriorityAndNoTime) {
  EXPECT_EQ(format_log_line(LogFormat::Journal, "mixer", spdlog::level::info, kTime, "up"), "<6>mixer: up");
  EXPECT_EQ(format_log_line(LogFormat::Journal, "mixer", spdlog::level::warn, kTime, "a\nb"), "<4>mixer: a b");
  EXPECT_EQ(format_log_line(LogFormat::Journal, "mixer", spdlog::level::err, kTime, "x"), "<3>mixer: x");
  EXPECT_EQ(format_log_line(LogFormat::Journal, "mixer", spdlog::level::debug, kTime, "x"), "<7>mixer: x");
}

TEST(LogFormat, TheJournalIsDetectedOnlyWhenStderrIsTheStreamNamed) {
  ::setenv("JOURNAL_STREAM", "1:2", 1);
  EXPECT_EQ(detected_log_format(), LogFormat::Text);  // another file than our stderr
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(detected_log_format(), LogFormat::Text);
}

}  // namespace
}  // namespace confab::base
