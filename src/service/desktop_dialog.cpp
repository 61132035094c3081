#include "service/desktop_dialog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <spdlog/spdlog.h>
#include <sstream>

#include "api/api_message.h"

extern char** environ;

namespace confab::service {

bool DesktopDialog::available() {
  const char* x = std::getenv("DISPLAY");
  const char* w = std::getenv("WAYLAND_DISPLAY");
  if (!(x && *x) && !(w && *w)) return false;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && ::access((d + "/zenity").c_str(), X_OK) == 0) return true;
  return false;
}

DesktopDialog::~DesktopDialog() {
  while (!open_.empty()) end(open_.begin());
}

void DesktopDialog::close(Id id) {
  if (auto it = open_.find(id); it != open_.end()) end(it);
}

void DesktopDialog::end(std::map<Id, std::unique_ptr<Open>>::iterator it) {
  Open& d = *it->second;
  {
    std::lock_guard lock(mutex_);
    if (!d.reaped) ::kill(d.pid, SIGKILL);  // at once, so its pipes close and the reader ends
  }
  if (d.reader.joinable()) d.reader.join();
  open_.erase(it);
}

DesktopDialog::Id DesktopDialog::ask(const Question& question,
                                     const std::vector<std::pair<std::string, std::string>>& devices,
                                     std::function<void(Answer)> answered) {
  if (open_.size() >= kMaxOpen) {
    spdlog::warn("device chooser: {} desktop dialogs are open already", open_.size());
    return 0;
  }
  // --text is Pango markup: a caller's URI may hold '&' or '<'.
  std::vector<std::string> args = {"zenity", "--list", "--title=Confab", "--text=" + api::xml_escape(question.text),
                                   "--ok-label=" + question.ok_label, "--cancel-label=" + question.cancel_label,
                                   "--column=Device", "--column=Name", "--print-column=1",
                                   "--timeout=" + std::to_string(question.timeout_s)};
  for (auto& [id, label] : devices) {
    args.push_back(id);
    args.push_back(label);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return 0;
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return 0;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "zenity", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    spdlog::warn("device chooser: cannot start zenity ({})", rc);
    return 0;
  }
  Id id = next_id_++;
  auto& d = open_[id];
  d = std::make_unique<Open>();
  d->pid = pid;
  // zenity answers when the user does: wait for it off the SIP thread.
  d->reader = std::thread([this, d = d.get(), id, out = out[0], err = err[0], alive = std::weak_ptr<int>(alive_),
                           answered = std::move(answered)] {
    std::string text, errors;
    pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
    for (int open = 2; open > 0;) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !fds[i].revents) continue;
        char buf[256];
        ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          std::string& into = i == 0 ? text : errors;
          if (into.size() < 4096) into.append(buf, static_cast<size_t>(n));
        } else {
          fds[i].fd = -1;
          --open;
        }
      }
    }
    ::close(out);
    ::close(err);
    // Wait for its exit without reaping it, then reap it under the lock: close() must not kill a reused pid.
    siginfo_t info;
    ::waitid(P_PID, static_cast<id_t>(d->pid), &info, WEXITED | WNOWAIT);
    int status = 0;
    {
      std::lock_guard lock(mutex_);
      ::waitpid(d->pid, &status, 0);
      d->reaped = true;
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;  // -1: killed (closed)
    Answer answer;
    if (code == 0) answer.device = text;
    answer.timed_out = code == 5;  // zenity's exit status on --timeout; 1 is the cancel button
    // No dialog was shown (GTK prints "cannot open display" and exits with 1, like a cancel).
    if ((code > 1 && code != 5) || errors.find("cannot open display") != std::string::npos) {
      answer.failed = true;
      auto line = errors.substr(0, errors.find('\n'));
      spdlog::warn("device chooser: zenity failed ({}): {}", code, line.empty() ? "no message" : line);
    }
    loop_.post([this, alive, id, answered, answer] {
      if (!alive.lock()) return;  // the dialog's owner is gone
      auto it = open_.find(id);
      if (it == open_.end()) return;  // closed meanwhile
      end(it);
      answered(answer);
    });
  });
  return id;
}

}  // namespace confab::service
