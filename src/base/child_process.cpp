#include "base/child_process.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace confab::base {

namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  ~Pipe() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  int take(int i) { return std::exchange(fds[i], -1); }
};

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

ChildProcess::ChildProcess(const SpawnSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) throw std::runtime_error("no program to start");
  const std::string& program = spec.argv[0];
  Pipe in, out, err;
  if (spec.pipe_stdin && ::pipe2(in.fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text(errno));
  if (spec.pipe_stdout && ::pipe2(out.fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text(errno));
  if (spec.pipe_stderr && ::pipe2(err.fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text(errno));

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  std::string log = spec.log_file.empty() ? "/dev/null" : spec.log_file;
  if (spec.pipe_stdin)
    posix_spawn_file_actions_adddup2(&actions, in.fds[0], 0);
  else
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (spec.pipe_stderr)
    posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);
  else
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (spec.pipe_stdout)
    posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  else if (spec.pipe_stderr)
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  else
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
  // Nothing else of ours (SIP and API sockets) may live on in the child.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD, SIGQUIT}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv;
  }
  for (auto& kv : spec.env) env[kv.substr(0, kv.find('='))] = kv;
  std::vector<char*> envp, argv;
  for (auto& [k, kv] : env) envp.push_back(const_cast<char*>(kv.c_str()));
  envp.push_back(nullptr);
  for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int rc = program.find('/') == std::string::npos
               ? posix_spawnp(&pid_, program.c_str(), &actions, &attr, argv.data(), envp.data())
               : posix_spawn(&pid_, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + program + ": " + errno_text(rc));
  }
  if (spec.pipe_stdin) {
    stdin_fd_ = in.take(1);
    ::fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
  }
  if (spec.pipe_stdout) {
    stdout_fd_ = out.take(0);
    ::fcntl(stdout_fd_, F_SETFL, O_NONBLOCK);
  }
  if (spec.pipe_stderr) {
    stderr_fd_ = err.take(0);
    ::fcntl(stderr_fd_, F_SETFL, O_NONBLOCK);
  }
}

ChildProcess::~ChildProcess() {
  terminate(kStopGrace);
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

int ChildProcess::take_stdout() { return std::exchange(stdout_fd_, -1); }
int ChildProcess::take_stderr() { return std::exchange(stderr_fd_, -1); }

void ChildProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

void ChildProcess::reaped(int wait_status) {
  if (WIFEXITED(wait_status)) {
    exit_code_ = WEXITSTATUS(wait_status);
    status_ = "exited with status " + std::to_string(exit_code_);
  }
  else if (WIFSIGNALED(wait_status))
    status_ = "killed by signal " + std::to_string(WTERMSIG(wait_status));
  pid_ = -1;
}

bool ChildProcess::running() {
  if (pid_ < 0) return false;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) reaped(st);
  else if (r < 0 && errno == ECHILD) {
    status_ = "gone";
    pid_ = -1;
  }
  return pid_ >= 0;
}

bool ChildProcess::write_stdin(const std::string& text) {
  if (stdin_fd_ < 0) return false;
  // A child that has gone would raise SIGPIPE, which kills by default: keep it
  // blocked on this thread for the write and swallow it if it came.
  sigset_t pipe_only, old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t n = ::write(stdin_fd_, text.data(), text.size());
  if (n < 0 && errno == EPIPE) {
    timespec zero{};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return n == static_cast<ssize_t>(text.size());
}

void ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (running() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int st = 0;
  if (::waitpid(pid_, &st, 0) == pid_) reaped(st);
}

}  // namespace confab::base
