#include "sip/dropped_messages.h"

#include <sofia-sip/su_log.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

extern "C" {
// nta's log (libsofia-sip-ua exports it; no public header declares it).
extern su_log_t nta_log[];
}

namespace confab::sip {
namespace {

std::mutex counts_mutex;
std::map<std::string, uint64_t, std::less<>>& counts() {
  static std::map<std::string, uint64_t, std::less<>> c;
  return c;
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string format(char const* fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, again);
  va_end(again);
  if (n <= 0) return {};
  std::string line(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(line.data(), line.size(), fmt, ap);
  line.resize(static_cast<size_t>(n));
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

// The lines of nta that may report a drop share these formats; the others
// (one or more per message) are passed on unformatted unless SOFIA_DEBUG asks.
bool may_report_drop(char const* fmt) {
  return std::strncmp(fmt, "nta_agent: received garbage", 27) == 0 || std::strcmp(fmt, "nta: %s (%u) %s\n") == 0 ||
         std::strcmp(fmt, "nta: %s has bad %s header\n") == 0 || std::strncmp(fmt, "nta: Via check: invalid", 23) == 0;
}

bool sofia_debug = false;

// False for a line that cannot report a drop. "nta: %s (%u) %s\n" comes once per
// request ("to message callback"): its last argument tells, without formatting.
bool reports_a_drop(char const* fmt, va_list ap) {
  if (std::strcmp(fmt, "nta: %s (%u) %s\n") != 0) return true;
  va_list peek;
  va_copy(peek, ap);
  (void)va_arg(peek, char const*);
  (void)va_arg(peek, unsigned);
  char const* what = va_arg(peek, char const*);
  va_end(peek);
  return what && std::strcmp(what, "has invalid Via") == 0;
}

void nta_logger(void*, char const* fmt, va_list ap) {
  if (!fmt) return;
  if (!sofia_debug && (!may_report_drop(fmt) || !reports_a_drop(fmt, ap))) return;
  std::string line = format(fmt, ap);
  if (line.empty()) return;
  if (auto reason = drop_reason_of_nta_line(line)) {
    {
      std::lock_guard lock(counts_mutex);
      auto it = counts().find(*reason);
      if (it == counts().end()) it = counts().emplace(std::string(*reason), 0).first;
      ++it->second;
    }
    spdlog::debug("SIP message dropped ({}): {}", *reason, line);
    return;
  }
  if (sofia_debug) spdlog::debug("sofia: {}", line);
}

}  // namespace

std::optional<std::string_view> drop_reason_of_nta_line(std::string_view line) {
  if (starts_with(line, "nta_agent: received garbage")) return kDropUnparsable;
  if (starts_with(line, "nta: ") && ends_with(line, ") has invalid Via")) return kDropViaTransport;
  // A request with a broken Via has no address to answer to (nta answers 400
  // only when a Via is left): "nta: INVITE has bad Via header".
  if (starts_with(line, "nta: ") && ends_with(line, " has bad Via header")) return kDropNoVia;
  return std::nullopt;
}

std::map<std::string, uint64_t, std::less<>> dropped_messages() {
  std::lock_guard lock(counts_mutex);
  return counts();
}

void observe_dropped_messages() {
  static std::once_flag once;
  std::call_once(once, [] {
    sofia_debug = std::getenv("SOFIA_DEBUG") != nullptr || std::getenv("NTA_DEBUG") != nullptr;
    su_log_redirect(nta_log, nta_logger, nullptr);
    // Level 5 carries the drop lines; nta_logger formats only those (cheap otherwise).
    if (!sofia_debug) su_log_set_level(nta_log, 5);
  });
}

}  // namespace confab::sip
