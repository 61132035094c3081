// Logging for every part: one spdlog logger per process, printed to stderr.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace confab::base {

// Sets the process-wide log level from a name ("trace", "debug", "info", "warn",
// "error", "off"); unknown names fall back to "info". Also names the process in
// every line (e.g. "proxy") so interleaved logs of several parts stay readable.
void init_logging(std::string_view process_name, std::string_view level = "info");

}  // namespace confab::base
