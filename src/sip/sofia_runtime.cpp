#include "sip/sofia_runtime.h"

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
  char buf[2048];
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (n <= 0) return;
  std::string line(buf, static_cast<size_t>(std::min<int>(n, sizeof buf - 1)));
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
  });
}

}  // namespace confab::sip
