#include "base/secret_input.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace confab::base {

namespace {

// Terminal echo off for as long as it lives (the terminal's settings restored after).
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    active_ = tcsetattr(fd_, TCSANOW, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(fd_, TCSANOW, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

// Echo off before the prompt shows, so nothing typed after it is echoed.
std::string prompt_without_echo(std::string_view prompt) {
  EchoOff quiet(STDIN_FILENO);
  std::cerr << prompt << std::flush;
  return read_secret_line(std::cin, "the password typed");
}

}  // namespace

std::string read_secret_line(std::istream& in, std::string_view what) {
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(std::string(what) + ": no input (end of file)");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw std::runtime_error(std::string(what) + " is empty");
  return line;
}

std::string read_secret_file(const std::string& path, std::string_view option) {
  std::string what = std::string(option) + " " + path;
  std::ifstream in(path);
  if (!in) throw std::runtime_error(what + ": cannot be read (" + std::strerror(errno) + ")");
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077))
    spdlog::warn("{} can be read by other users (mode {:04o}): chmod 600 {}", path, st.st_mode & 07777, path);
  return read_secret_line(in, what);
}

std::string read_secret_from_stdin(std::string_view prompt, bool confirm) {
  if (!::isatty(STDIN_FILENO)) return read_secret_line(std::cin, "the password on standard input");
  std::string secret = prompt_without_echo(prompt);
  if (confirm && prompt_without_echo("Again: ") != secret) throw std::runtime_error("the passwords typed do not match");
  return secret;
}

std::string secret_on_command_line_warning(std::string_view option, std::string_view better) {
  return std::string(option) + " on the command line can be read by other users in the process list and stays in " +
         "the shell history; use " + std::string(better) + " instead";
}

}  // namespace confab::base
