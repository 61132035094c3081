// A part's local control socket (as Kamailio's ctl, Asterisk's -r): a Unix stream
// socket private to the part's user, where `confab ctl PART COMMAND [ARGS]` asks
// a running part to list or change what it holds. One request and one answer per
// connection, each a line of JSON (docs/deployment.md, "Controlling a running part"):
//   -> {"command":"kick","args":["alice@example.com"]}
//   <- {"ok":true,"result":{"removed":2}}   or   {"ok":false,"error":"no such user"}
// Commands are registered by name (a command table, as baresip's); they run on the
// part's SIP thread, where its state lives. Every server has help, version and
// log-level; each part adds its own.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sip/event_loop.h"

namespace confab::control {

struct Answer {
  bool ok = true;
  boost::json::value result;  // ok: what the command returns
  std::string error;          // not ok: why, in words a person can act on
  static Answer done(boost::json::value result = nullptr) { return {true, std::move(result), {}}; }
  static Answer fail(std::string why) { return {false, nullptr, std::move(why)}; }
};

using Args = std::vector<std::string>;
using Command = std::function<Answer(const Args& args)>;

class ControlServer {
 public:
  // Listens on `path` (mode 0600; its directory made 0700 when missing). A socket
  // left there by a part that died is replaced; one a running part answers on is
  // not (throws std::runtime_error saying so, as for any other failure).
  ControlServer(sip::EventLoop& loop, std::string path, std::string part);
  ~ControlServer();  // closes and removes the socket
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // `usage`: the arguments ("AOR"), "" for none; `help`: one line on what it does.
  void add(const std::string& name, std::string usage, std::string help, Command command);
  const std::string& path() const { return path_; }

  static constexpr size_t kMaxRequest = 64 * 1024;

 private:
  struct Connection;
  struct Entry {
    std::string usage, help;
    Command command;
  };
  void accept();
  void on_readable(Connection& c);
  std::string answer(std::string_view request);
  void close(Connection& c);

  sip::EventLoop& loop_;
  std::string path_, part_;
  int fd_ = -1;
  std::unique_ptr<sip::FdWatch> watch_;
  std::map<std::string, Entry> commands_;
  std::map<int, std::unique_ptr<Connection>> connections_;  // by fd
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);   // posted closes after our end are dropped
};

// Where `part`'s socket is unless told: /run/confab-<part>/control.sock (the
// systemd units' RuntimeDirectory=) for root or the part's system user, else
// $XDG_RUNTIME_DIR/confab/<part>.sock.
std::string default_control_path(std::string_view part);

// Sends one request to the socket at `path` and returns the answer. Throws
// std::runtime_error naming the socket when nothing answers there (and what to do).
Answer call_control(const std::string& path, const std::string& command, const Args& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace confab::control
