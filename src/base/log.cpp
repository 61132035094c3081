#include "base/log.h"

#include "base/log_context.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace confab::base {

namespace {

LogFormat g_format = detected_log_format();

// syslog(3) priorities by spdlog level, for journald's "<N>" prefix.
int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;
    case spdlog::level::info: return 6;
    case spdlog::level::warn: return 4;
    case spdlog::level::err: return 3;
    case spdlog::level::critical: return 2;
    default: return 6;
  }
}

std::string utc_time(std::chrono::system_clock::time_point time) {
  auto t = std::chrono::system_clock::to_time_t(time);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

// spdlog's formatter for the json and journal formats (text uses a pattern).
class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(LogFormat format) : format_(format) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto line = format_log_line(format_, std::string_view(msg.logger_name.data(), msg.logger_name.size()), msg.level,
                                msg.time, std::string_view(msg.payload.data(), msg.payload.size()));
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<LineFormatter>(format_); }

 private:
  LogFormat format_;
};

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::Text;
  if (name == "json") return LogFormat::Json;
  if (name == "journal") return LogFormat::Journal;
  return std::nullopt;
}

LogFormat detected_log_format() {
  const char* stream = std::getenv("JOURNAL_STREAM");  // "DEVICE:INODE" of stderr when systemd connected it
  struct stat st{};
  if (!stream || ::fstat(STDERR_FILENO, &st) != 0) return LogFormat::Text;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return LogFormat::Text;
  return dev == st.st_dev && ino == st.st_ino ? LogFormat::Journal : LogFormat::Text;
}

void set_log_format(LogFormat format) { g_format = format; }

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
  for (std::string_view known : {"trace", "debug", "info", "warn", "error", "off"})
    if (name == known) return spdlog::level::from_str(std::string(name));
  return std::nullopt;
}

std::string format_log_line(LogFormat format, std::string_view part, spdlog::level::level_enum level,
                            std::chrono::system_clock::time_point time, std::string_view message) {
  auto level_name = spdlog::level::to_string_view(level);
  std::string_view lvl(level_name.data(), level_name.size());
  if (format == LogFormat::Journal) {
    std::string line = "<" + std::to_string(syslog_priority(level)) + ">" + std::string(part) + ": ";
    for (char c : message) line += c == '\n' ? ' ' : c;  // one journal entry per line
    return line;
  }
  auto quoted = [](std::string_view s) { return boost::json::serialize(boost::json::string(s)); };
  auto call = split_call_log_prefix(message);  // a CallLog's "[call-id=...] " becomes a field of its own
  return "{\"time\":\"" + utc_time(time) + "\",\"part\":" + quoted(part) + ",\"level\":" + quoted(lvl) +
         (call.call_id ? ",\"call_id\":" + quoted(*call.call_id) : std::string()) + ",\"message\":" + quoted(call.text) +
         "}";
}

void init_logging(std::string_view process_name, std::string_view level) {
  auto logger = spdlog::stderr_color_mt(std::string(process_name));
  if (g_format == LogFormat::Text)
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n %^%l%$ %v");
  else
    logger->set_formatter(std::make_unique<LineFormatter>(g_format));
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") lvl = spdlog::level::info;
  logger->set_level(lvl);
  logger->flush_on(g_format == LogFormat::Text ? spdlog::level::warn : spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace confab::base
