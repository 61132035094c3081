#include "service/devices/device_runtime.h"

#include "base/host_port.h"

#include <sys/stat.h>
#include <sys/un.h>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <fstream>


namespace confab::service {

namespace asio = boost::asio;

DeviceRuntime::DeviceRuntime(sip::EventLoop& loop, std::string base_dir)
    : loop_(loop), base_dir_(std::move(base_dir)), work_(asio::make_work_guard(io_)) {
  thread_ = std::thread([this] {
    for (;;) {
      try {
        io_.run();
        return;
      } catch (const std::exception& e) {  // a handler threw: log it, keep the thread
        spdlog::error("devices: I/O thread: {}", e.what());
      }
    }
  });
}

DeviceRuntime::~DeviceRuntime() { stop(); }

void DeviceRuntime::stop() {
  if (!alive_) return;
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
  alive_.reset();  // only the SIP thread reads it now
}

void DeviceRuntime::deliver(std::function<void()> fn) {
  loop_.post([alive = std::weak_ptr<int>(alive_), fn = std::move(fn)] {
    if (alive.lock()) fn();
  });
}

std::string DeviceRuntime::device_dir(const std::string& device_id) {
  if (::mkdir(base_dir_.c_str(), 0700) != 0 && errno != EEXIST) throw std::runtime_error("cannot create " + base_dir_);
  std::string dir = base_dir_ + "/" + device_id;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw std::runtime_error("cannot create " + dir);
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
    throw std::runtime_error(dir + " is not a directory of ours");
  ::chmod(dir.c_str(), 0700);
  return dir;
}

namespace {

// One exchange in flight: the socket, its deadline, what has arrived.
template <class Protocol>
struct Exchange : std::enable_shared_from_this<Exchange<Protocol>> {
  Exchange(asio::io_context& io, DeviceRuntime& rt) : socket(io), timer(io), runtime(rt) {}
  typename Protocol::socket socket;
  asio::steady_timer timer;
  DeviceRuntime& runtime;
  std::string request, received;
  DeviceRuntime::ReplyFinder reply_in;
  std::function<void(const std::string&, const std::string&)> done;
  bool finished = false;
  char chunk[4096];

  void start(const typename Protocol::endpoint& to, std::chrono::milliseconds timeout) {
    auto self = this->shared_from_this();
    timer.expires_after(timeout);
    timer.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->finish("no answer within the time allowed", "");
    });
    socket.async_connect(to, [self](const boost::system::error_code& ec) {
      if (ec) return self->finish("cannot connect: " + ec.message(), "");
      asio::async_write(self->socket, asio::buffer(self->request),
                        [self](const boost::system::error_code& ec, size_t) {
                          if (ec) return self->finish("cannot send: " + ec.message(), "");
                          self->read();
                        });
    });
  }
  void read() {
    auto self = this->shared_from_this();
    socket.async_read_some(asio::buffer(chunk), [self](const boost::system::error_code& ec, size_t n) {
      self->received.append(self->chunk, n);
      if (self->received.size() > (1 << 20)) return self->finish("the reply is too long", "");
      if (self->reply_in) {
        try {
          if (auto reply = self->reply_in(self->received)) return self->finish("", *reply);
        } catch (const std::exception& e) {
          return self->finish(std::string("unreadable reply: ") + e.what(), "");
        }
      }
      if (ec == asio::error::eof && !self->reply_in) return self->finish("", self->received);
      if (ec) return self->finish(ec == asio::error::eof ? "closed before replying" : ec.message(), "");
      self->read();
    });
  }
  void finish(const std::string& error, const std::string& reply) {
    if (finished) return;
    finished = true;
    timer.cancel();
    boost::system::error_code ignored;
    socket.close(ignored);
    runtime.deliver([done = std::move(done), error, reply] { done(error, reply); });
  }
};

}  // namespace

void DeviceRuntime::exchange(const std::string& to, std::string request, ReplyFinder reply_in,
                             std::chrono::milliseconds timeout,
                             std::function<void(const std::string&, const std::string&)> done) {
  asio::post(io_, [this, to, request = std::move(request), reply_in = std::move(reply_in), timeout,
                   done = std::move(done)]() mutable {
    auto fill = [&](auto& x) {
      x->request = std::move(request);
      x->reply_in = std::move(reply_in);
      x->done = std::move(done);
    };
    if (!to.empty() && to[0] == '/') {
      auto x = std::make_shared<Exchange<asio::local::stream_protocol>>(io_, *this);
      fill(x);
      if (to.size() >= sizeof(sockaddr_un::sun_path)) return x->finish("control socket path too long: " + to, "");
      x->start(asio::local::stream_protocol::endpoint(to), timeout);
      return;
    }
    auto x = std::make_shared<Exchange<asio::ip::tcp>>(io_, *this);
    fill(x);
    auto hp = base::split_host_port(to);
    boost::system::error_code ec;
    auto address = asio::ip::make_address(hp ? hp->host : "", ec);
    if (!hp || ec || hp->port == 0) return x->finish("bad control address '" + to + "'", "");
    x->start(asio::ip::tcp::endpoint(address, hp->port), timeout);
  });
}

struct DeviceRuntime::LineReader {
  struct State {
    explicit State(asio::io_context& io, int fd) : pipe(io, fd) {}
    asio::posix::stream_descriptor pipe;
    std::ofstream copy;
    std::string pending;
    char chunk[4096];
  };
  asio::io_context& io;
  std::shared_ptr<State> state;
  ~LineReader() {
    asio::post(io, [s = state] {
      boost::system::error_code ignored;
      s->pipe.close(ignored);
    });
  }
};

std::shared_ptr<DeviceRuntime::LineReader> DeviceRuntime::read_lines(int fd, std::string copy_to,
                                                                     std::function<void(std::string)> on_line,
                                                                     std::function<void()> on_end) {
  auto state = std::make_shared<LineReader::State>(io_, fd);
  if (!copy_to.empty()) state->copy.open(copy_to, std::ios::app);
  auto reader = std::shared_ptr<LineReader>(new LineReader{io_, state});
  // The pending read's handler owns the loop (`self`), so a read that never completes (the
  // runtime stopped first) frees everything when asio destroys its handler.
  auto read = std::make_shared<std::function<void()>>();
  *read = [this, state, weak = std::weak_ptr<std::function<void()>>(read), on_line = std::move(on_line),
           on_end = std::move(on_end)] {
    auto self = weak.lock();  // whoever runs us holds it
    state->pipe.async_read_some(asio::buffer(state->chunk), [=, this](const boost::system::error_code& ec, size_t n) {
      state->pending.append(state->chunk, n);
      for (size_t nl; (nl = state->pending.find('\n')) != std::string::npos;) {
        std::string line = state->pending.substr(0, nl);
        state->pending.erase(0, nl + 1);
        if (state->copy) state->copy << line << '\n' << std::flush;
        deliver([on_line, line] { on_line(line); });
      }
      if (state->pending.size() > 65536) state->pending.clear();  // no newline in sight: drop it
      if (ec) return deliver(on_end);
      (*self)();
    });
  };
  asio::post(io_, [read] { (*read)(); });
  return reader;
}

std::string netstring(std::string_view payload) {
  return std::to_string(payload.size()) + ":" + std::string(payload) + ",";
}

std::optional<std::pair<std::string, size_t>> next_netstring(std::string_view buffer, size_t max_length) {
  auto colon = buffer.find(':');
  if (colon == std::string_view::npos) {
    if (buffer.size() > 10) throw std::runtime_error("not a netstring (no length)");
    for (char c : buffer)
      if (!isdigit(static_cast<unsigned char>(c))) throw std::runtime_error("not a netstring (bad length)");
    return std::nullopt;
  }
  size_t length = 0;
  auto [p, ec] = std::from_chars(buffer.data(), buffer.data() + colon, length);
  if (colon == 0 || ec != std::errc() || p != buffer.data() + colon) throw std::runtime_error("not a netstring (bad length)");
  if (length > max_length) throw std::runtime_error("netstring too long");
  if (buffer.size() < colon + 1 + length + 1) return std::nullopt;
  if (buffer[colon + 1 + length] != ',') throw std::runtime_error("not a netstring (no comma)");
  return std::make_pair(std::string(buffer.substr(colon + 1, length)), colon + 1 + length + 1);
}

}  // namespace confab::service
