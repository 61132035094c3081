// Logging for every part: one spdlog logger per process, printed to stderr.
#pragma once

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <string_view>

namespace confab::base {

// How each line is written (--log-format):
//   text     "2026-12-07 15:00:00.123 proxy info text" (a terminal, a file)
//   json     {"time":"2026-12-07T15:00:00.123Z","part":"proxy","level":"info","message":"text"}
//            (lines about a call also have "call_id", see base/log_context.h)
//            (one object per line, for log shippers)
//   journal  "<6>proxy: text": the syslog priority prefix journald reads, no time
//            (journald adds its own); the default when stderr is the journal
enum class LogFormat { Text, Json, Journal };
std::optional<LogFormat> parse_log_format(std::string_view name);
// Journal when the process's stderr is connected to systemd's journal (JOURNAL_STREAM
// names its device and inode, see systemd.exec(5)), else Text.
LogFormat detected_log_format();
// For every later init_logging() (main sets it from --log-format before a part starts).
void set_log_format(LogFormat format);

// The level a name given at run time means (confab ctl PART log-level, the service's
// <LogLevel>): one of kLogLevelNames, else nullopt.
inline constexpr std::string_view kLogLevelNames = "trace, debug, info, warn, error, off";
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

// Sets the process-wide log level from a name ("trace", "debug", "info", "warn",
// "error", "off"); unknown names fall back to "info". Also names the process in
// every line (e.g. "proxy") so interleaved logs of several parts stay readable.
void init_logging(std::string_view process_name, std::string_view level = "info");

// One log line in `format` (what init_logging's logger writes, without the line end).
std::string format_log_line(LogFormat format, std::string_view part, spdlog::level::level_enum level,
                            std::chrono::system_clock::time_point time, std::string_view message);

}  // namespace confab::base
