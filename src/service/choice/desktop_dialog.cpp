#include "service/choice/desktop_dialog.h"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>

#include "api/api_message.h"

namespace confab::service {

// One zenity: its process, the two pipes it answers on, what it said so far.
struct DesktopDialog::Open {
  std::unique_ptr<base::ChildProcess> zenity;
  int fds[2] = {-1, -1};  // stdout, stderr
  std::unique_ptr<sip::FdWatch> watches[2];
  std::string said[2];
  std::function<void(Answer)> answered;
  std::unique_ptr<sip::Timer> reap;  // once both pipes closed: until the exit is seen
  ~Open() {
    for (auto& w : watches) w.reset();
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
    if (zenity) zenity->signal(SIGKILL);  // closed before it answered: at once
  }
};

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

DesktopDialog::DesktopDialog(sip::EventLoop& loop) : loop_(loop) {}

DesktopDialog::~DesktopDialog() { open_.clear(); }

void DesktopDialog::close(Id id) { open_.erase(id); }

DesktopDialog::Id DesktopDialog::ask(const Question& question,
                                     const std::vector<std::pair<std::string, std::string>>& devices,
                                     std::function<void(Answer)> answered) {
  if (open_.size() >= kMaxOpen) {
    spdlog::warn("device chooser: {} desktop dialogs are open already", open_.size());
    return 0;
  }
  // --text is Pango markup: a caller's URI may hold '&' or '<'.
  base::SpawnSpec spec;
  spec.argv = {"zenity", "--list", "--title=Confab", "--text=" + api::xml_escape(question.text),
               "--ok-label=" + question.ok_label, "--cancel-label=" + question.cancel_label,
               "--column=Device", "--column=Name", "--print-column=1",
               "--timeout=" + std::to_string(question.timeout_s)};
  for (auto& [id, label] : devices) {
    spec.argv.push_back(id);
    spec.argv.push_back(label);
  }
  spec.pipe_stdout = spec.pipe_stderr = true;
  auto open = std::make_unique<Open>();
  try {
    open->zenity = std::make_unique<base::ChildProcess>(spec);
  } catch (const std::exception& e) {
    spdlog::warn("device chooser: {}", e.what());
    return 0;
  }
  Id id = next_id_++;
  open->fds[0] = open->zenity->take_stdout();
  open->fds[1] = open->zenity->take_stderr();
  open->answered = std::move(answered);
  for (int i = 0; i < 2; ++i)
    open->watches[i] = std::make_unique<sip::FdWatch>(loop_, open->fds[i], [this, id, i] { read_from(id, i == 0); });
  open_[id] = std::move(open);
  return id;
}

// zenity answers when the user does: what it prints, then both pipes close as it exits.
void DesktopDialog::read_from(Id id, bool from_stdout) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  Open& d = *it->second;
  int i = from_stdout ? 0 : 1;
  if (d.fds[i] < 0) return;
  char buf[256];
  ssize_t n;
  while ((n = ::read(d.fds[i], buf, sizeof buf)) > 0)
    if (d.said[i].size() < 4096) d.said[i].append(buf, static_cast<size_t>(n));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  // End of file (or an error): this pipe is done. Its watch goes after this callback returns.
  loop_.post([this, alive = std::weak_ptr<int>(alive_), id, i] {
    auto it = open_.find(id);
    if (!alive.lock() || it == open_.end() || it->second->fds[i] < 0) return;
    Open& d = *it->second;
    d.watches[i].reset();
    ::close(std::exchange(d.fds[i], -1));
    if (d.fds[0] < 0 && d.fds[1] < 0) finish(id);
  });
}

void DesktopDialog::finish(Id id) {
  Open& d = *open_.at(id);
  if (d.zenity->running()) {  // the pipes close just before the exit is visible
    if (!d.reap) d.reap = std::make_unique<sip::Timer>(loop_);
    d.reap->once(std::chrono::milliseconds(10), [this, id] { finish(id); });
    return;
  }
  std::string text = d.said[0], errors = d.said[1];
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  int code = d.zenity->exit_code();  // -1: killed
  Answer answer;
  if (code == 0) answer.device = text;
  answer.timed_out = code == 5;  // zenity's exit status on --timeout; 1 is the cancel button
  // No dialog was shown (GTK prints "cannot open display" and exits with 1, like a cancel).
  if ((code != 0 && code != 1 && code != 5) || errors.find("cannot open display") != std::string::npos) {
    answer.failed = true;
    auto line = errors.substr(0, errors.find('\n'));
    spdlog::warn("device chooser: zenity failed ({}): {}", d.zenity->status(), line.empty() ? "no message" : line);
  }
  auto answered = std::move(d.answered);
  open_.erase(id);
  answered(answer);
}

}  // namespace confab::service
