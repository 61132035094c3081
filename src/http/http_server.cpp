#include "http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <unordered_map>
#include <mutex>
#include <thread>

#include "base/bind_error.h"
#include "base/host_port.h"

namespace confab::http {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string Request::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::query_param(const std::string& name) const {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    std::string item = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = item.find('=');
    if (item.substr(0, eq) == name) return eq == std::string::npos ? std::string() : item.substr(eq + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return {};
}

Response Response::json(int status, std::string body) { return Response{status, "application/json", std::move(body), {}}; }

Response Response::error(int status, const std::string& reason) {
  boost::json::object o;
  o["error"] = reason;
  return json(status, boost::json::serialize(o));
}


namespace {
struct WsSession;
}

struct ServerCore : std::enable_shared_from_this<ServerCore> {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::mutex mutex;
  std::vector<std::pair<std::pair<std::string, std::string>, Handler>> routes;  // ((method, path), handler)
  Handler fallback;  // what no route matches
  std::string token;
  std::map<std::string, WebSocketHandler> websockets;  // by path
  std::unordered_map<uint64_t, std::shared_ptr<WsSession>> ws_sessions;  // io thread only
  uint64_t next_ws = 1;
  void ws_deliver(uint64_t id, std::string text, bool close);

  Response dispatch(const Request& req) {
    Handler handler;
    bool path_known = false;
    {
      std::lock_guard lock(mutex);
      if (!token.empty() && req.header("authorization") != "Bearer " + token) {
        // RFC 6750 section 3: the scheme a client must use, and why this one failed.
        bool sent = !req.header("authorization").empty();
        auto refusal = Response::error(401, sent ? "wrong bearer token" : "missing bearer token");
        refusal.headers.emplace_back("WWW-Authenticate",
                                     sent ? "Bearer realm=\"confab\", error=\"invalid_token\"" : "Bearer realm=\"confab\"");
        return refusal;
      }
      for (auto& [key, h] : routes) {
        const auto& [method, path] = key;
        bool match = path.back() == '/' && path.size() > 1 ? req.path.rfind(path, 0) == 0 : req.path == path;
        if (!match) continue;
        path_known = true;
        if (method == req.method) {
          handler = h;
          break;
        }
      }
      if (!handler && !path_known && fallback) handler = fallback;
    }
    if (!handler) return path_known ? Response::error(405, "method not allowed") : Response::error(404, "not found");
    try {
      return handler(req);
    } catch (const std::exception& e) {
      spdlog::error("http {} {}: {}", req.method, req.path, e.what());
      return Response::error(500, "internal error");
    }
  }

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // acceptor closed
      std::make_shared<Session>(*this, std::move(socket))->read();  // NOLINT
      accept();
    });
  }

  struct Session : std::enable_shared_from_this<Session> {
    ServerCore& server;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<beast::http::request_parser<beast::http::string_body>> parser;
    beast::http::response<beast::http::string_body> response;

    Session(ServerCore& s, tcp::socket socket) : server(s), stream(std::move(socket)) {}

    void read() {
      parser.emplace();
      parser->body_limit(Server::kMaxBody);
      parser->header_limit(16 * 1024);
      stream.expires_after(std::chrono::seconds(30));
      beast::http::async_read(stream, buffer, *parser,
                              [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
      if (ec == beast::http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof) {
        close();
        return;
      }
      if (ec) {
        // Oversized or malformed: answer once, then close.
        int status = ec == beast::http::error::body_limit ? 413 : ec == beast::http::error::header_limit ? 431 : 400;
        send(Response::error(status, ec.message()), false);
        return;
      }
      auto& msg = parser->get();
      Request req = to_request(msg);
      if (beast::websocket::is_upgrade(msg)) return upgrade(std::move(req));
      send(server.dispatch(req), msg.keep_alive(), msg.method() == beast::http::verb::head);
    }

    template <typename Msg>
    static Request to_request(Msg& msg) {
      Request req;
      req.method = std::string(msg.method_string());
      std::string target(msg.target());
      auto q = target.find('?');
      req.path = target.substr(0, q);
      if (q != std::string::npos) req.query = target.substr(q + 1);
      for (auto& field : msg) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        req.headers[name] = std::string(field.value());
      }
      req.body = std::move(msg.body());
      return req;
    }

    void upgrade(Request req);

    // A response to HEAD has the headers of the GET (its Content-Length too) and no body.
    void send(const Response& r, bool keep_alive, bool head = false) {
      response = {};
      response.version(11);
      response.result(static_cast<beast::http::status>(r.status));
      response.set(beast::http::field::server, "confab");
      response.set(beast::http::field::content_type, r.content_type);
      for (auto& [n, v] : r.headers) response.set(n, v);
      response.keep_alive(keep_alive);
      if (head) {
        response.content_length(r.body.size());
      } else {
        response.body() = r.body;
        response.prepare_payload();
      }
      beast::http::async_write(stream, response,
                               [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                                 if (ec || !keep_alive)
                                   self->close();
                                 else
                                   self->read();
                               });
    }

    void close() {
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  };
};

namespace {

struct WsSession : std::enable_shared_from_this<WsSession> {
  ServerCore& server;
  beast::websocket::stream<beast::tcp_stream> ws;
  const WebSocketHandler& handler;
  std::shared_ptr<WebSocket> handle;
  beast::flat_buffer buffer;
  std::deque<std::string> out;
  size_t queued = 0;
  bool writing = false, closing = false, done = false;

  WsSession(ServerCore& s, beast::tcp_stream stream, const WebSocketHandler& h, uint64_t id)
      : server(s), ws(std::move(stream)), handler(h),
        handle(std::make_shared<WebSocket>(s.weak_from_this(), id)) {}

  void start(const beast::http::request<beast::http::string_body>& upgrade, Request req) {
    // The HTTP session's 30 s deadline would cut the WebSocket off 30 s after its upgrade
    // request: from here on only the WebSocket's own timeouts apply.
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(beast::websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.read_message_max(handler.max_message);
    ws.async_accept(upgrade, [self = shared_from_this(), req = std::move(req)](beast::error_code ec) {
      if (ec) return self->finish();
      self->server.ws_sessions[self->handle->id()] = self;
      if (self->handler.on_open) self->handler.on_open(self->handle, req);
      self->read();
    });
  }

  void read() {
    ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->finish();
      std::string text = beast::buffers_to_string(self->buffer.data());
      self->buffer.consume(self->buffer.size());
      if (self->handler.on_message) self->handler.on_message(self->handle, std::move(text));
      self->read();
    });
  }

  void queue(std::string text, bool then_close) {
    if (done) return;
    if (then_close) closing = true;
    if (!text.empty()) {
      queued += text.size();
      if (queued > handler.max_queued) {
        spdlog::warn("websocket {}: not reading what it is sent ({} bytes queued), disconnected", handle->id(), queued);
        beast::error_code ignored;
        beast::get_lowest_layer(ws).socket().close(ignored);
        return;
      }
      out.push_back(std::move(text));
    }
    write();
  }

  void write() {
    if (writing || done) return;
    if (out.empty()) {
      if (closing) {
        writing = true;
        ws.async_close(beast::websocket::close_code::normal,
                       [self = shared_from_this()](beast::error_code) { self->writing = false; });
      }
      return;
    }
    writing = true;
    ws.text(true);
    ws.async_write(asio::buffer(out.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      self->writing = false;
      if (ec) return self->finish();
      self->queued -= self->out.front().size();
      self->out.pop_front();
      self->write();
    });
  }

  void finish() {
    if (done) return;
    done = true;
    server.ws_sessions.erase(handle->id());
    if (handler.on_close) handler.on_close(handle);
  }
};

}  // namespace

void ServerCore::Session::upgrade(Request req) {
  auto& msg = parser->get();
  const WebSocketHandler* handler = nullptr;
  {
    std::lock_guard lock(server.mutex);
    auto it = server.websockets.find(req.path);
    if (it != server.websockets.end()) handler = &it->second;
  }
  if (!handler) return send(Response::error(404, "no WebSocket here"), false);
  if (handler->admit) {
    std::optional<Response> refusal;
    try {
      refusal = handler->admit(req);
    } catch (const std::exception& e) {
      refusal = Response::error(500, e.what());
    }
    if (refusal) return send(*refusal, false);
  }
  auto upgrade_request = parser->release();
  std::make_shared<WsSession>(server, std::move(stream), *handler, server.next_ws++)
      ->start(upgrade_request, std::move(req));
  (void)msg;
}

void ServerCore::ws_deliver(uint64_t id, std::string text, bool close) {
  // `this`: a handler left in a stopped io_context must not keep the core alive.
  asio::post(io, [this, id, text = std::move(text), close]() mutable {
    auto it = ws_sessions.find(id);
    if (it != ws_sessions.end()) it->second->queue(std::move(text), close);
  });
}

void WebSocket::send(std::string text) const {
  if (auto core = core_.lock()) core->ws_deliver(id_, std::move(text), false);
}

void WebSocket::close() const {
  if (auto core = core_.lock()) core->ws_deliver(id_, {}, true);
}

void Server::websocket(const std::string& path, WebSocketHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->websockets[path] = std::move(handler);
}

Server::Server(const std::string& host, uint16_t port) : impl_(std::make_shared<ServerCore>()) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("cannot listen for HTTP on " + host + ":" + std::to_string(port) + ": '" + host +
                                   "' is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)");
  tcp::endpoint ep(address, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen for HTTP on " + base::HostPort{host, port}.str() + ": " +
                             (ec.category() == boost::system::system_category() ? base::bind_error_reason(ec.value(), port)
                                                                                   : ec.message()));
}

Server::~Server() { stop(); }

void Server::route(const std::string& method, const std::string& path, Handler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->routes.push_back({{method, path}, std::move(handler)});
}

void Server::fallback(Handler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->fallback = std::move(handler);
}

void Server::require_token(std::string token) {
  std::lock_guard lock(impl_->mutex);
  impl_->token = std::move(token);
}

void Server::start() {
  impl_->accept();
  impl_->thread = std::thread([core = impl_.get()] { core->io.run(); });
}

void Server::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [core = impl_.get()] {
    beast::error_code ignored;
    core->acceptor.close(ignored);
    for (auto& [id, s] : core->ws_sessions) {
      s->done = true;
      beast::get_lowest_layer(s->ws).socket().close(ignored);
    }
    core->ws_sessions.clear();
    core->io.stop();
  });
  impl_->thread.join();
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

Response call_on_async(sip::EventLoop& loop, std::function<void(Reply)> fn, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Response>>();
  auto answered = std::make_shared<std::atomic<bool>>(false);
  auto future = promise->get_future();
  Reply reply = [promise, answered](Response r) {
    if (!answered->exchange(true)) promise->set_value(std::move(r));
  };
  loop.post([reply, fn = std::move(fn)] {
    try {
      fn(reply);
    } catch (const std::exception& e) {
      reply(Response::error(500, e.what()));
    }
  });
  if (future.wait_for(timeout) != std::future_status::ready) return Response::error(503, "server busy");
  return future.get();
}

Response call_on(sip::EventLoop& loop, std::function<Response()> fn, std::chrono::milliseconds timeout) {
  return call_on_async(loop, [fn = std::move(fn)](Reply reply) { reply(fn()); }, timeout);
}

}  // namespace confab::http
