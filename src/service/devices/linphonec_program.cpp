// linphonec as a softphone device: the Unix socket linphonecsh uses (one
// command per connection, the answer until it closes).
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

class Linphonec final : public SoftphoneProgram {
 public:
  explicit Linphonec(DeviceSettings& s) {
    sip_port_ = s.port("sip_port");
    user_ = sip_user(s);
    program_ = one_line(s, "path", "linphonec");
    rtp_ = s.port_range("rtp_ports");
    // linphonecsh's fixed socket: one linphonec per user at a time.
    socket_ = "/tmp/linphonec-" + std::to_string(::getuid());
  }

  std::string_view name() const override { return "linphonec"; }
  std::string sip_uri() const override { return "sip:" + user_ + "@127.0.0.1:" + std::to_string(sip_port_); }

  SpawnSpec launch(const std::string& dir) override {
    std::ostringstream c;
    c << "[sip]\nsip_port=" << sip_port_ << "\nsip_tcp_port=-1\nsip_tls_port=-1\nguess_hostname=0\n"
      << "contact=sip:" << user_ << "@127.0.0.1\n[rtp]\n";
    if (rtp_.first) c << "audio_rtp_port=" << range_text(rtp_) << "\n";
    c << "[storage]\nuri=" << dir << "/linphone.db\n";
    write_file(dir + "/linphonerc", c.str());
    // As `linphonecsh init` starts it (--pipe: the control socket), but as our child. HOME: its other databases.
    return SpawnSpec{{program_, "--pipe", "-c", dir + "/linphonerc", "-a", "-d", "1", "-l", dir + "/log"},
                     {"HOME=" + dir},
                     dir + "/stderr.log"};
  }

  void check(DeviceRuntime& rt, ChildProcess*, milliseconds timeout, Checked done) override {
    rt.exchange(socket_, "calls", nullptr, timeout, [done](const std::string& error, const std::string& reply) {
      if (!error.empty()) return done(error, 0);
      if (reply.find("No active call") != std::string::npos) return done("", 0);
      int calls = 0;  // a table, one line per call with its address
      std::istringstream lines(reply);
      for (std::string line; std::getline(lines, line);)
        if (line.find("sip:") != std::string::npos) ++calls;
      if (calls == 0) return done("unexpected reply to 'calls': " + reply.substr(0, 100), 0);
      done("", calls);
    });
  }

  void hang_up(DeviceRuntime& rt, ChildProcess*, int) override {
    rt.exchange(socket_, "terminate all", nullptr, milliseconds(2000), [](const std::string& error, const std::string&) {
      if (!error.empty()) spdlog::warn("linphonec terminate: {}", error);
    });
  }

  void quit(ChildProcess&) override {
    // Bounded blocking exchange at shutdown: the program removes its socket when it quits cleanly.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_.c_str());
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      [[maybe_unused]] auto n = ::send(fd, "quit", 4, MSG_NOSIGNAL);
    }
    ::close(fd);
  }

 private:
  uint16_t sip_port_;
  std::pair<uint16_t, uint16_t> rtp_;
  std::string user_, program_, socket_;
};

}  // namespace

std::unique_ptr<SoftphoneProgram> make_linphonec_program(DeviceSettings& s) { return std::make_unique<Linphonec>(s); }

}  // namespace confab::service
