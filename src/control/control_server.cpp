#include "control/control_server.h"

#include "base/log.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace confab::control {

namespace json = boost::json;

namespace {

sockaddr_un address_of(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("control socket path '" + path + "' is empty or longer than " +
                             std::to_string(sizeof addr.sun_path - 1) + " bytes");
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// A connected Unix socket to `path`, or -1 (errno set).
int connect_to(const std::string& path) {
  auto addr = address_of(path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

struct ControlServer::Connection {
  int fd = -1;
  std::unique_ptr<sip::FdWatch> watch;
  std::string request;
  bool done = false;
};

ControlServer::ControlServer(sip::EventLoop& loop, std::string path, std::string part)
    : loop_(loop), path_(std::move(path)), part_(std::move(part)) {
  auto addr = address_of(path_);
  auto dir = std::filesystem::path(path_).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create " + dir.string() + " for the control socket: " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  if (int other = connect_to(path_); other >= 0) {
    ::close(other);
    throw std::runtime_error("control socket " + path_ + ": another process answers there (is this part already "
                             "running? give each its own --control)");
  }
  ::unlink(path_.c_str());  // a socket left by a part that died
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  mode_t old = ::umask(0177);  // 0600 from the start, no window
  bool bound = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd_, 16) == 0;
  int e = errno;
  ::umask(old);
  if (!bound) {
    if (fd_ >= 0) ::close(fd_);
    throw std::runtime_error("cannot listen on control socket " + path_ + ": " + std::strerror(e));
  }
  watch_ = std::make_unique<sip::FdWatch>(loop_, fd_, [this] { accept(); });

  add("help", "", "the commands of this part", [this](const Args&) {
    json::object out;
    for (auto& [name, e] : commands_) out[name] = e.usage.empty() ? e.help : e.usage + ": " + e.help;
    return Answer::done(std::move(out));
  });
  add("log-level", "[LEVEL]", "the log level now, or set it (trace, debug, info, warn, error, off)",
      [](const Args& args) {
        if (!args.empty()) {
          auto level = base::parse_log_level(args[0]);
          if (!level)
            return Answer::fail("'" + args[0] + "' is not a log level (" + std::string(base::kLogLevelNames) + ")");
          spdlog::set_level(*level);
          spdlog::info("log level set to {} (confab ctl)", args[0]);
        }
        auto name = spdlog::level::to_string_view(spdlog::get_level());
        return Answer::done(json::string(std::string_view(name.data(), name.size())));
      });
}

ControlServer::~ControlServer() {
  for (auto& [fd, c] : connections_) {
    c->watch.reset();
    ::close(fd);
  }
  watch_.reset();
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

void ControlServer::add(const std::string& name, std::string usage, std::string help, Command command) {
  commands_[name] = {std::move(usage), std::move(help), std::move(command)};
}

void ControlServer::accept() {
  for (;;) {
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) return;  // EAGAIN: all taken
    if (connections_.size() >= 16) {  // a stuck client cannot pile up connections
      write_all(fd, R"({"ok":false,"error":"too many control connections"})" "\n");
      ::close(fd);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    Connection* raw = c.get();
    c->watch = std::make_unique<sip::FdWatch>(loop_, fd, [this, raw] { on_readable(*raw); });
    connections_[fd] = std::move(c);
  }
}

void ControlServer::on_readable(Connection& c) {
  if (c.done) return;
  char buf[4096];
  ssize_t n;
  bool eof = false;
  while ((n = ::read(c.fd, buf, sizeof buf)) > 0) c.request.append(buf, static_cast<size_t>(n));
  if (n == 0) eof = true;
  if (n < 0 && errno != EAGAIN && errno != EINTR) eof = true;
  auto nl = c.request.find('\n');
  if (nl == std::string::npos && !eof && c.request.size() <= kMaxRequest) return;  // more to come
  std::string reply;
  if (c.request.size() > kMaxRequest && nl == std::string::npos)
    reply = serialize(json::object{{"ok", false}, {"error", "request over 64 KiB"}});
  else if (nl != std::string::npos || !c.request.empty())
    reply = answer(std::string_view(c.request).substr(0, nl));
  if (!reply.empty()) {
    // Answers are small: written at once, the socket blocking for at most 2 s.
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
    timeval tv{2, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    write_all(c.fd, reply + "\n");
  }
  close(c);
}

void ControlServer::close(Connection& c) {
  c.done = true;
  int fd = c.fd;
  // The watch goes after this callback returns (it is the one running).
  loop_.post([this, alive = std::weak_ptr<int>(alive_), fd] {
    if (!alive.lock()) return;
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    it->second->watch.reset();
    ::close(fd);
    connections_.erase(it);
  });
}

std::string ControlServer::answer(std::string_view request) {
  auto reply = [](const Answer& a) {
    json::object out{{"ok", a.ok}};
    if (a.ok)
      out["result"] = a.result;
    else
      out["error"] = a.error;
    return json::serialize(out);
  };
  boost::system::error_code ec;
  json::value v = json::parse(request, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::string* name = o && o->contains("command") ? o->at("command").if_string() : nullptr;
  if (!name) {
    spdlog::warn("control {}: a request that is not {{\"command\":...}} JSON", path_);
    return reply(Answer::fail("want one line of JSON: {\"command\":NAME,\"args\":[...]}"));
  }
  Args args;
  if (o->contains("args")) {
    const json::array* a = o->at("args").if_array();
    if (!a) return reply(Answer::fail("\"args\" must be an array of strings"));
    for (auto& x : *a) {
      if (!x.is_string()) return reply(Answer::fail("\"args\" must be an array of strings"));
      args.emplace_back(x.get_string());
    }
  }
  auto it = commands_.find(std::string(*name));
  if (it == commands_.end())
    return reply(Answer::fail("no command '" + std::string(*name) + "' in " + part_ + " (`confab ctl " + part_ +
                              " help` lists them)"));
  if (spdlog::should_log(spdlog::level::debug)) {
    std::string words;
    for (auto& a : args) words += " " + a;
    spdlog::debug("control: {}{}", std::string(*name), words);
  }
  try {
    return reply(it->second.command(args));
  } catch (const std::exception& e) {
    spdlog::error("control: {} failed: {}", std::string(*name), e.what());
    return reply(Answer::fail(std::string(*name) + " failed: " + e.what()));
  }
}

std::string default_control_path(std::string_view part) {
  std::string system = "/run/confab-" + std::string(part) + "/control.sock";
  if (std::filesystem::exists(system)) return system;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string dir = runtime && *runtime ? std::string(runtime) : "/tmp/confab-" + std::to_string(::getuid());
  return dir + "/confab/" + std::string(part) + ".sock";
}

Answer call_control(const std::string& path, const std::string& command, const Args& args,
                    std::chrono::milliseconds timeout) {
  int fd = connect_to(path);
  if (fd < 0)
    throw std::runtime_error("nothing answers on " + path + " (" + std::strerror(errno) +
                             "): is the part running with --control " + path + "? (or give --socket PATH)");
  json::array a;
  for (auto& s : args) a.emplace_back(s);
  std::string request = json::serialize(json::object{{"command", command}, {"args", std::move(a)}}) + "\n";
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string reply;
  bool sent = write_all(fd, request);
  char buf[65536];
  ssize_t n = 0;
  while (sent && reply.find('\n') == std::string::npos && (n = ::read(fd, buf, sizeof buf)) > 0)
    reply.append(buf, static_cast<size_t>(n));
  int e = errno;
  ::close(fd);
  if (reply.find('\n') == std::string::npos)
    throw std::runtime_error(path + ": no answer" + (n < 0 ? std::string(" (") + std::strerror(e) + ")" : ""));
  boost::system::error_code ec;
  json::value v = json::parse(std::string_view(reply).substr(0, reply.find('\n')), ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (!o || !o->contains("ok") || !o->at("ok").is_bool()) throw std::runtime_error(path + ": an answer that is not JSON");
  if (o->at("ok").get_bool()) return Answer::done(o->contains("result") ? o->at("result") : json::value(nullptr));
  const json::string* why = o->contains("error") ? o->at("error").if_string() : nullptr;
  return Answer::fail(why ? std::string(*why) : "failed");
}

}  // namespace confab::control
