// A program a part starts (the service's softphones and desktop dialogs, the
// demo's phones), with posix_spawn: no fork of the parent's memory, no
// descriptors inherited but the ones given, default signal handling and an
// empty signal mask (servers block SIGTERM for their own signal thread), its
// own process group (a terminal's Ctrl-C reaches the parent, which then stops
// its children itself). One object per child; destroying it stops the child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace confab::base {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] found through PATH unless it has a '/'
  std::vector<std::string> env;   // NAME=VALUE added to (or replacing in) the service's environment
  std::string log_file;           // stderr and stdout, unless piped, appended here; "" for /dev/null
  bool pipe_stdin = false, pipe_stdout = false, pipe_stderr = false;
};

class ChildProcess {
 public:
  // Throws std::runtime_error naming the program and the reason (e.g. not found).
  explicit ChildProcess(const SpawnSpec& spec);
  ~ChildProcess();  // terminate(kStopGrace)
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Our ends of the pipes (non-blocking, close-on-exec), -1 if none. take_*() hands one over.
  int stdin_fd() const { return stdin_fd_; }
  int take_stdout();
  int take_stderr();
  // False once it has exited (reaps it, without blocking).
  bool running();
  // "exited with status 1", "killed by signal 9", "running".
  std::string status() const { return status_; }
  // The exit status once it has exited by itself; -1 while running or if killed by a signal.
  int exit_code() const { return exit_code_; }
  // Sends `sig` if it still runs (never to a pid already reaped).
  void signal(int sig);
  // Writes `text` to its stdin without blocking; false if it cannot take it now.
  bool write_stdin(const std::string& text);
  // SIGTERM, up to `grace` for it to exit, then SIGKILL. Blocks at most `grace` + a little.
  void terminate(std::chrono::milliseconds grace);

  static constexpr std::chrono::milliseconds kStopGrace{3000};

 private:
  void reaped(int wait_status);
  pid_t pid_ = -1;
  int stdin_fd_ = -1, stdout_fd_ = -1, stderr_fd_ = -1;
  int exit_code_ = -1;
  std::string status_ = "running";
};

}  // namespace confab::base
