#include "sip/sofia_runtime.h"

#include "sip/dropped_messages.h"
#include "sip/sip_trace.h"

#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace confab::sip {
namespace {

void sofia_logger(void*, char const* fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = std::vsnprintf(nullptr, 0, fmt, again);
  va_end(again);
  if (n <= 0) return;
  std::string line(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(line.data(), line.size(), fmt, ap);
  line.resize(static_cast<size_t>(n));
  if (take_sofia_message_log(line)) return;  // a traced stack's message (sip_trace.h)
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (!line.empty()) spdlog::debug("sofia: {}", line);
}

}  // namespace

void ensure_sofia_runtime() {
  static std::once_flag once;
  std::call_once(once, [] {
    su_init();
    su_log_redirect(nullptr, sofia_logger, nullptr);
    // Sofia prints through the default log; SOFIA_DEBUG=0..9 raises its level.
    if (!std::getenv("SOFIA_DEBUG")) su_log_set_level(nullptr, 0);
    observe_dropped_messages();
  });
}

}  // namespace confab::sip
