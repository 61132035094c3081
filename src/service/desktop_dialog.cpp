#include "service/desktop_dialog.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <spdlog/spdlog.h>
#include <sstream>

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
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  if (reader_.joinable()) reader_.join();
}

bool DesktopDialog::ask(const std::string& target, const std::vector<std::pair<std::string, std::string>>& devices,
                        std::function<void(std::string)> chosen) {
  if (pid_ > 0) return false;
  if (reader_.joinable()) reader_.join();  // the previous dialog's reader has finished
  std::vector<std::string> args = {"zenity", "--list", "--title=Confab", "--text=Join " + target + " on which device?",
                                   "--column=Device", "--column=Name", "--print-column=1", "--timeout=120"};
  for (auto& [id, label] : devices) {
    args.push_back(id);
    args.push_back(label);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "zenity", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    spdlog::warn("device chooser: cannot start zenity ({})", rc);
    return false;
  }
  pid_ = pid;
  // zenity answers when the user does: wait for it off the SIP thread.
  reader_ = std::thread([this, fd = out[0], pid, chosen = std::move(chosen)] {
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) text.clear();  // cancelled, timed out or killed
    loop_.post([this, alive = std::weak_ptr<int>(alive_), chosen, text] {
      if (!alive.lock()) return;  // the dialog's owner is gone
      pid_ = -1;
      chosen(text);
    });
  });
  return true;
}

}  // namespace confab::service
