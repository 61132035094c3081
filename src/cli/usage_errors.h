// What `confab` says when its command line is wrong: CLI11's failure message,
// with a suggestion for a mistyped command or option ("unknown command
// 'conferance': did you mean 'conference'?"), unknown options in the order given.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace confab::cli {

// The message for `error`, thrown while `app` (the top-level command) parsed
// its command line; CLI11's own for errors it explains well enough.
std::string usage_error_message(const CLI::App& app, const CLI::Error& error);

// Makes app.exit() print usage_error_message().
void explain_usage_errors(CLI::App& app);

}  // namespace confab::cli
