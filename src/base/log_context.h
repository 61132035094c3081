// The log context of one call: every line about a call (a proxied request, a
// conference participant, a mixer leg, a service call) goes through the call's
// CallLog, which puts the call's Call-ID in front of it:
//   text, journal  "[call-id=a84b4c76e66710@pc33] conference 1: sip:alice@... joined"
//   json           {..., "call_id":"a84b4c76e66710@pc33", "message":"conference 1: ... joined"}
// (format_log_line takes the prefix apart for json). A call with two dialogs of
// its own (a third-party call: the device's and the target's) lists both, in the
// order they became known: "[call-id=A,B]" and "call_id":"A,B" (a Call-ID holds
// no comma or space, RFC 3261 25.1). Lines written before any Call-ID is known
// (an INVITE not sent yet) have no prefix.
#pragma once

#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace confab::base {

class CallLog {
 public:
  CallLog() = default;
  explicit CallLog(std::string_view call_id) { add_call_id(call_id); }

  // Adds a Call-ID once known (a second dialog of the same call, or the first one
  // of an outgoing call once its INVITE has gone out); one already there or "" is ignored.
  void add_call_id(std::string_view call_id);
  // Replaces every Call-ID (a dialog replaced by another, RFC 3891).
  void set_call_id(std::string_view call_id);
  // "A" or "A,B"; "" before any is known.
  const std::string& call_ids() const { return call_ids_; }
  // "[call-id=A] " or "".
  const std::string& prefix() const { return prefix_; }

  template <typename... Args>
  void log(spdlog::level::level_enum level, spdlog::format_string_t<Args...> format, Args&&... args) const {
    if (!spdlog::should_log(level)) return;
    spdlog::log(level, "{}{}", prefix_, fmt::format(format, std::forward<Args>(args)...));
  }
  template <typename... Args>
  void debug(spdlog::format_string_t<Args...> format, Args&&... args) const {
    log(spdlog::level::debug, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void info(spdlog::format_string_t<Args...> format, Args&&... args) const {
    log(spdlog::level::info, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(spdlog::format_string_t<Args...> format, Args&&... args) const {
    log(spdlog::level::warn, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(spdlog::format_string_t<Args...> format, Args&&... args) const {
    log(spdlog::level::err, format, std::forward<Args>(args)...);
  }

 private:
  std::string call_ids_, prefix_;
};

// A log message taken apart: the Call-ID(s) of its "[call-id=...] " prefix (nullopt
// without one) and the text after it (the whole message without one).
struct CallLogMessage {
  std::optional<std::string_view> call_id;
  std::string_view text;
};
CallLogMessage split_call_log_prefix(std::string_view message);

}  // namespace confab::base
