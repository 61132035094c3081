#include "http/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

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

std::string json_escape(const std::string& s) { return boost::json::serialize(boost::json::string(s)); }

struct Server::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::mutex mutex;
  std::vector<std::pair<std::pair<std::string, std::string>, Handler>> routes;  // ((method, path), handler)
  std::string token;

  Response dispatch(const Request& req) {
    Handler handler;
    bool path_known = false;
    {
      std::lock_guard lock(mutex);
      if (!token.empty() && req.header("authorization") != "Bearer " + token)
        return Response::error(401, "missing or wrong bearer token");
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
      std::make_shared<Session>(*this, std::move(socket))->read();
      accept();
    });
  }

  struct Session : std::enable_shared_from_this<Session> {
    Impl& server;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<beast::http::request_parser<beast::http::string_body>> parser;
    beast::http::response<beast::http::string_body> response;

    Session(Impl& s, tcp::socket socket) : server(s), stream(std::move(socket)) {}

    void read() {
      parser.emplace();
      parser->body_limit(kMaxBody);
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
        int status = ec == beast::http::error::body_limit ? 413 : 400;
        send(Response::error(status, ec.message()), false);
        return;
      }
      auto& msg = parser->get();
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
      send(server.dispatch(req), msg.keep_alive());
    }

    void send(const Response& r, bool keep_alive) {
      response = {};
      response.version(11);
      response.result(static_cast<beast::http::status>(r.status));
      response.set(beast::http::field::server, "confab");
      response.set(beast::http::field::content_type, r.content_type);
      for (auto& [n, v] : r.headers) response.set(n, v);
      response.body() = r.body;
      response.keep_alive(keep_alive);
      response.prepare_payload();
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

Server::Server(const std::string& host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("bad HTTP listen address " + host);
  tcp::endpoint ep(address, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen for HTTP on " + host + ":" + std::to_string(port) + ": " + ec.message());
}

Server::~Server() { stop(); }

void Server::route(const std::string& method, const std::string& path, Handler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->routes.push_back({{method, path}, std::move(handler)});
}

void Server::require_token(std::string token) {
  std::lock_guard lock(impl_->mutex);
  impl_->token = std::move(token);
}

void Server::start() {
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void Server::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
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
