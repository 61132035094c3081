// A program the service starts (a softphone), with posix_spawn: no fork of the
// SIP process's memory, no descriptors inherited but the ones given, default
// signal handling and an empty signal mask (the service blocks SIGTERM for its
// own signal thread), its own process group (a terminal's Ctrl-C reaches the
// service, which then stops its children itself).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace confab::service {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] found through PATH unless it has a '/'
  std::vector<std::string> env;   // NAME=VALUE added to (or replacing in) the service's environment
  std::string log_file;           // stderr (and stdout unless piped) appended here; "" for /dev/null
  bool pipe_stdin = false, pipe_stdout = false;
};

class ChildProcess {
 public:
  // Throws std::runtime_error naming the program and the reason (e.g. not found).
  explicit ChildProcess(const SpawnSpec& spec);
  ~ChildProcess();  // terminate(kStopGrace)
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Our ends of the pipes (non-blocking, close-on-exec), -1 if none. take_stdout() hands it over.
  int stdin_fd() const { return stdin_fd_; }
  int take_stdout();
  // False once it has exited (reaps it, without blocking).
  bool running();
  // "exited with status 1", "killed by signal 9", "running".
  std::string status() const { return status_; }
  // Writes `text` to its stdin without blocking; false if it cannot take it now.
  bool write_stdin(const std::string& text);
  // SIGTERM, up to `grace` for it to exit, then SIGKILL. Blocks at most `grace` + a little.
  void terminate(std::chrono::milliseconds grace);

  static constexpr std::chrono::milliseconds kStopGrace{3000};

 private:
  void reaped(int wait_status);
  pid_t pid_ = -1;
  int stdin_fd_ = -1, stdout_fd_ = -1;
  std::string status_ = "running";
};

}  // namespace confab::service
