#include "service/api/api_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <deque>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>

namespace confab::service {

namespace asio = boost::asio;
using GenericSocket = asio::generic::stream_protocol::socket;

api::ApiMessage result(const std::string& tag, int code, const std::string& reason) {
  api::ApiMessage r("Result");
  if (!tag.empty()) r.set("tag", tag);
  r.set("status", code < 300 ? "ok" : "error");
  r.set("code", std::to_string(code));
  r.set("reason", reason);
  return r;
}

void ApiConnection::send(const api::ApiMessage& message) const {
  if (auto t = transport_.lock()) t->deliver(id_, message, false);
}

void ApiConnection::close(const api::ApiMessage& last) const {
  if (auto t = transport_.lock()) t->deliver(id_, last, true);
}

uint64_t next_connection_id() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

namespace {
class Session;
}

// Owns the io thread and every session; sessions are reached by id only, so
// nothing outside this file holds a socket.
struct ApiServerCore : ApiTransport, std::enable_shared_from_this<ApiServerCore> {
  sip::EventLoop& loop;
  ApiHandler& handler;
  ApiServerOptions options;
  asio::io_context io{1};
  std::unique_ptr<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::unique_ptr<asio::ip::tcp::acceptor> tcp_acceptor;
  std::thread thread;
  std::unordered_map<uint64_t, std::shared_ptr<Session>> sessions;  // io thread only
  std::shared_ptr<int> alive = std::make_shared<int>(0);  // reset on the SIP thread: drop queued deliveries

  ApiServerCore(sip::EventLoop& l, ApiHandler& h, ApiServerOptions o) : loop(l), handler(h), options(std::move(o)) {}
  void accept_unix();
  void accept_tcp();
  void adopt(GenericSocket socket, bool needs_token, const std::string& peer);
  void deliver(const std::shared_ptr<ApiConnection>& c, api::ApiMessage m);
  void closed(uint64_t id);
  void deliver(uint64_t connection, const api::ApiMessage& message, bool close_after) override;
};

namespace {

class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(ApiServerCore& core, GenericSocket socket, bool needs_token, std::shared_ptr<ApiConnection> handle)
      : core_(core),
        socket_(std::move(socket)),
        auth_timer_(core.io),
        needs_token_(needs_token),
        handle_(std::move(handle)),
        reader_([this](api::ApiMessage&& m) { on_message(std::move(m)); }, core.options.limits) {}

  void start() {
    if (needs_token_) {
      auth_timer_.expires_after(std::chrono::milliseconds(core_.options.auth_timeout_ms));
      auth_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec && self->needs_token_) self->fail(401, "no <Auth token=\"..\"/> in time");
      });
    }
    read();
  }

  void queue(std::string bytes, bool then_close) {
    if (finished_) return;
    if (then_close) closing_ = true;
    if (!bytes.empty()) {
      queued_bytes_ += bytes.size();
      if (queued_bytes_ > core_.options.max_queued_bytes) {
        spdlog::warn("api {}: not reading what it is sent ({} bytes queued), disconnected", peer(), queued_bytes_);
        return finish();
      }
      out_.push_back(std::move(bytes));
    }
    write();
  }

  void fail(int code, const std::string& reason) { queue(api::to_xml(result({}, code, reason)) + "\n", true); }

  // Ends the connection now, without telling the service (server stop).
  void shut() {
    finished_ = true;
    boost::system::error_code ec;
    auth_timer_.cancel();
    socket_.close(ec);
  }

  const std::string& peer() const { return handle_->peer(); }
  const std::shared_ptr<ApiConnection>& handle() const { return handle_; }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](const boost::system::error_code& ec,
                                                                               size_t n) {
      if (ec) return self->finish();
      if (self->closing_) return;  // input after an error is ignored while the reply drains
      if (!self->reader_.feed(std::string_view(self->buffer_.data(), n))) {
        spdlog::warn("api {}: {}", self->peer(), self->reader_.error());
        return self->fail(400, self->reader_.error());
      }
      if (!self->closing_) self->read();
    });
  }

  void on_message(api::ApiMessage&& m) {
    if (closing_) return;
    if (needs_token_) {
      if (m.name != "Auth" || m.attr("token").empty() || m.attr("token") != core_.options.token) {
        spdlog::warn("api {}: refused, first message was <{}> without the right token", peer(), m.name);
        return fail(401, "the first message on TCP must be <Auth token=\"..\"/> with the token from the token file");
      }
      needs_token_ = false;
      auth_timer_.cancel();
      queue(api::to_xml(result(m.attr("tag"), 200, "authenticated")) + "\n", false);
      return;
    }
    core_.deliver(handle_, std::move(m));
  }

  void write() {
    if (writing_ || finished_) return;
    if (out_.empty()) {
      if (closing_) {
        boost::system::error_code ec;
        socket_.shutdown(asio::socket_base::shutdown_both, ec);
        finish();
      }
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        self->writing_ = false;
                        if (ec) return self->finish();
                        self->queued_bytes_ -= self->out_.front().size();
                        self->out_.pop_front();
                        self->write();
                      });
  }

  void finish() {
    if (finished_) return;
    shut();
    core_.closed(handle_->id());
  }

  ApiServerCore& core_;
  GenericSocket socket_;
  asio::steady_timer auth_timer_;
  bool needs_token_;
  std::shared_ptr<ApiConnection> handle_;
  api::ApiReader reader_;
  std::array<char, 16 * 1024> buffer_{};
  std::deque<std::string> out_;
  size_t queued_bytes_ = 0;
  bool writing_ = false, closing_ = false, finished_ = false;
};

}  // namespace

void ApiServerCore::deliver(uint64_t id, const api::ApiMessage& message, bool close_after) {
  std::string bytes = message.name.empty() ? std::string() : api::to_xml(message) + "\n";
  // `this`, not a shared_ptr: a handler left in a stopped io_context must not keep its owner alive.
  asio::post(io, [this, id, bytes = std::move(bytes), close_after]() mutable {
    auto it = sessions.find(id);
    if (it != sessions.end()) it->second->queue(std::move(bytes), close_after);
  });
}

void ApiServerCore::adopt(GenericSocket socket, bool needs_token, const std::string& peer) {
  uint64_t id = next_connection_id();
  auto handle = std::make_shared<ApiConnection>(std::weak_ptr<ApiTransport>(shared_from_this()), id, peer);
  auto s = std::make_shared<Session>(*this, std::move(socket), needs_token, handle);
  sessions.emplace(id, s);
  if (sessions.size() > options.max_connections) {
    spdlog::warn("api {}: refused, {} connections already", peer, sessions.size() - 1);
    s->fail(503, "too many connections");
    return;
  }
  spdlog::debug("api {}: connected", peer);
  s->start();
}

void ApiServerCore::deliver(const std::shared_ptr<ApiConnection>& c, api::ApiMessage m) {
  loop.post([weak = std::weak_ptr<int>(alive), h = &handler, c, m = std::move(m)]() mutable {
    if (weak.lock()) h->on_message(c, std::move(m));
  });
}

void ApiServerCore::closed(uint64_t id) {
  auto it = sessions.find(id);
  if (it == sessions.end()) return;
  auto handle = it->second->handle();
  spdlog::debug("api {}: closed", handle->peer());
  sessions.erase(it);  // handlers under way keep the session alive until they return
  loop.post([weak = std::weak_ptr<int>(alive), h = &handler, c = std::move(handle)] {
    if (weak.lock()) h->on_closed(c);
  });
}

void ApiServerCore::accept_unix() {
  unix_acceptor->async_accept([this](const boost::system::error_code& ec, asio::local::stream_protocol::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      // Defence in depth behind the socket's 0600 mode: only our own user.
      ucred cred{};
      socklen_t len = sizeof cred;
      if (getsockopt(s.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid())
        spdlog::warn("api unix: refused a connection from uid {}", cred.uid);
      else
        adopt(GenericSocket(std::move(s)), false, "unix");
    }
    accept_unix();
  });
}

void ApiServerCore::accept_tcp() {
  tcp_acceptor->async_accept([this](const boost::system::error_code& ec, asio::ip::tcp::socket s) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      boost::system::error_code e2;
      auto ep = s.remote_endpoint(e2);
      adopt(GenericSocket(std::move(s)), true, "tcp:" + ep.address().to_string() + ":" + std::to_string(ep.port()));
    }
    accept_tcp();
  });
}

ApiServer::ApiServer(sip::EventLoop& loop, ApiServerOptions options, ApiHandler& handler)
    : core_(std::make_shared<ApiServerCore>(loop, handler, std::move(options))) {
  auto& o = core_->options;
  if (!o.unix_path.empty()) {
    ::unlink(o.unix_path.c_str());  // a stale socket; the caller checked that no service answers on it
    try {
      core_->unix_acceptor = std::make_unique<asio::local::stream_protocol::acceptor>(
          core_->io, asio::local::stream_protocol::endpoint(o.unix_path));
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot listen on " + o.unix_path + ": " + e.what());
    }
    ::chmod(o.unix_path.c_str(), 0600);
  }
  if (o.tcp_port >= 0) {
    if (o.token.empty()) throw std::runtime_error("the TCP API needs a token");
    try {
      asio::ip::tcp::endpoint ep(asio::ip::make_address(o.tcp_host), static_cast<uint16_t>(o.tcp_port));
      core_->tcp_acceptor = std::make_unique<asio::ip::tcp::acceptor>(core_->io, ep);
    } catch (const std::exception& e) {
      throw std::runtime_error("cannot listen on " + o.tcp_host + ":" + std::to_string(o.tcp_port) + ": " + e.what());
    }
  }
}

ApiServer::~ApiServer() {
  stop();
  core_->alive.reset();
}

void ApiServer::start() {
  if (core_->thread.joinable()) return;
  if (core_->unix_acceptor) core_->accept_unix();
  if (core_->tcp_acceptor) core_->accept_tcp();
  core_->thread = std::thread([core = core_.get()] { core->io.run(); });
}

void ApiServer::stop() {
  if (!core_->thread.joinable()) return;
  asio::post(core_->io, [core = core_.get()] {
    boost::system::error_code ec;
    if (core->unix_acceptor) core->unix_acceptor->close(ec);
    if (core->tcp_acceptor) core->tcp_acceptor->close(ec);
    for (auto& [id, s] : core->sessions) s->shut();
    core->sessions.clear();
    core->io.stop();
  });
  core_->thread.join();
  if (!core_->options.unix_path.empty()) ::unlink(core_->options.unix_path.c_str());
}

uint16_t ApiServer::tcp_port() const {
  return core_->tcp_acceptor ? core_->tcp_acceptor->local_endpoint().port() : 0;
}

}  // namespace confab::service
