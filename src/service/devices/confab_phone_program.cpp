// `confab phone` as a softphone device: commands on its stdin, events on its stdout.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "service/devices/softphone_program.h"

namespace confab::service {

namespace {

using std::chrono::milliseconds;

std::string own_binary() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "confab" : p.string();
}

class ConfabPhone final : public SoftphoneProgram {
 public:
  explicit ConfabPhone(DeviceSettings& s) {
    sip_port_ = s.port("sip_port");
    user_ = sip_user(s);
    program_ = one_line(s, "path", own_binary());
    rtp_ = s.port_range("rtp_ports");
    std::istringstream words(one_line(s, "args"));
    for (std::string w; words >> w;) {
      for (const char* ours : {"--listen", "--auto-answer", "--dial", "--from", "--rtp-ports"})
        if (w == ours) s.fail("args", "must not set " + w + " (the device sets it)");
      args_.push_back(w);
    }
  }

  std::string_view name() const override { return "confab-phone"; }
  std::string sip_uri() const override { return "sip:" + user_ + "@127.0.0.1:" + std::to_string(sip_port_); }

  SpawnSpec launch(const std::string& dir) override {
    std::string listen = "127.0.0.1:" + std::to_string(sip_port_);
    SpawnSpec spec{{program_, "phone", "--listen", listen, "--auto-answer", "--from", sip_uri()}, {}, dir + "/log"};
    if (rtp_.first) spec.argv.insert(spec.argv.end(), {"--rtp-ports", range_text(rtp_)});
    spec.argv.insert(spec.argv.end(), args_.begin(), args_.end());
    spec.pipe_stdin = spec.pipe_stdout = true;
    return spec;
  }

  void started(DeviceRuntime& rt, ChildProcess& child, const std::string& dir) override {
    reader_ = rt.read_lines(child.take_stdout(), dir + "/events.log", [this](std::string line) { on_line(line); },
                            [this] { fail_waiting("the phone closed its output"); });
  }

  void check(DeviceRuntime& rt, ChildProcess* child, milliseconds timeout, Checked done) override {
    if (!child || !reader_) return done("not running", 0);
    if (!child->write_stdin("status\n")) return done("cannot write to its standard input", 0);
    auto timer = std::make_shared<sip::Timer>(rt.loop());
    waiting_.push_back({std::move(done), timer});
    timer->once(timeout, [this, raw = timer.get()] {
      for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
        if (it->timer.get() == raw) {
          auto done = std::move(it->done);
          waiting_.erase(it);
          return done("no status event in time", 0);
        }
    });
  }

  void hang_up(DeviceRuntime&, ChildProcess* child, int calls) override {
    for (int i = 0; child && i < std::min(calls, 8); ++i) child->write_stdin("hangup\n");
  }

  void quit(ChildProcess& child) override { child.write_stdin("quit\n"); }

  void gone() override {
    reader_.reset();
    fail_waiting("the phone has gone");
  }

 private:
  void on_line(const std::string& line) {
    if (line.rfind("event=status ", 0) != 0 || waiting_.empty()) return;
    std::smatch m;
    int calls = std::regex_search(line, m, std::regex(" calls=(\\d{1,6})")) ? std::stoi(m[1]) : 0;
    auto done = std::move(waiting_.front().done);
    waiting_.pop_front();
    done("", calls);
  }
  void fail_waiting(const std::string& why) {
    for (auto& w : std::exchange(waiting_, {})) w.done(why, 0);
  }

  struct Waiting {
    Checked done;
    std::shared_ptr<sip::Timer> timer;
  };
  uint16_t sip_port_;
  std::pair<uint16_t, uint16_t> rtp_;
  std::string user_, program_;
  std::vector<std::string> args_;
  std::shared_ptr<DeviceRuntime::LineReader> reader_;
  std::deque<Waiting> waiting_;
};

}  // namespace

std::unique_ptr<SoftphoneProgram> make_confab_phone_program(DeviceSettings& s) {
  return std::make_unique<ConfabPhone>(s);
}
}  // namespace confab::service
