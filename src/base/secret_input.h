// Passwords and other secrets from where they are not seen: a file, a terminal
// prompt with echo off, or standard input (never only the command line, which
// the process list and the shell history show).
#pragma once

#include <istream>
#include <string>
#include <string_view>

namespace confab::base {

// The first line of the file at `path` (its line end removed). Throws
// std::runtime_error naming `option` and the file when it cannot be read or the
// line is empty; warns (log) when other users may read the file.
std::string read_secret_file(const std::string& path, std::string_view option);

// The first line of `in` (line end removed); throws naming `what` when there is none or it is empty.
std::string read_secret_line(std::istream& in, std::string_view what);

// A secret from standard input: on a terminal, asks with `prompt` on stderr with the
// echo off (twice when `confirm`, the answers must match); otherwise the first line of
// the input, e.g. `echo secret | confab proxy adduser alice`. Throws on an empty secret.
std::string read_secret_from_stdin(std::string_view prompt, bool confirm);

// The warning logged when a secret is given as the value of `option` on the command line.
std::string secret_on_command_line_warning(std::string_view option, std::string_view better);

}  // namespace confab::base
