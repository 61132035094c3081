#include "http/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <optional>
#include <vector>

namespace confab::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

std::string ClientResponse::error() const {
  if (status >= 200 && status < 300) return "";
  return status ? "HTTP " + std::to_string(status) + " " + reason : reason;
}

namespace {

ClientResponse failure(std::string reason, bool timed_out = false) {
  ClientResponse r;
  r.reason = std::move(reason);
  r.timed_out = timed_out;
  return r;
}

// Connections a Client keeps open after an answer that allows it, by
// "host:port": the next request to the same server skips the connect (the
// game server sends the conference admin API a request per zone crossing).
struct ConnectionPool {
  static constexpr size_t kIdlePerServer = 8;
  std::map<std::string, std::vector<asio::ip::tcp::socket>> idle;
};

// One request, bounded by one deadline for everything: over a kept connection
// when the pool has one (a kept connection the server has closed meanwhile is
// retried once on a new one), else over a new connection.
struct Exchange : std::enable_shared_from_this<Exchange> {
  Exchange(asio::io_context& io, std::shared_ptr<ConnectionPool> pool)
      : io(io), resolver(io), deadline(io), pool(std::move(pool)) {
    stream.emplace(io);
  }
  asio::io_context& io;
  asio::ip::tcp::resolver resolver;
  std::optional<beast::tcp_stream> stream;
  asio::steady_timer deadline;
  std::shared_ptr<ConnectionPool> pool;  // null: one connection per request
  std::string host, server;              // server: "host:port", the pool's key
  uint16_t port = 0;
  bool reused = false;
  bhttp::request<bhttp::string_body> request;
  size_t body_limit = 0;
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  std::function<void(ClientResponse)> done;
  bool finished = false;

  void start(std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    deadline.expires_after(timeout);
    deadline.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->finish(failure("no answer within the time allowed", true));
    });
    if (pool) {
      auto it = pool->idle.find(server);
      if (it != pool->idle.end() && !it->second.empty()) {
        stream.emplace(std::move(it->second.back()));
        it->second.pop_back();
        reused = true;
        return send();
      }
    }
    connect();
  }
  void connect() {
    auto self = shared_from_this();
    auto connected = [self](const boost::system::error_code& ec, auto&&...) {
      if (ec) return self->finish(failure("cannot connect: " + ec.message()));
      self->send();
    };
    boost::system::error_code numeric;
    auto address = asio::ip::make_address(host, numeric);
    if (!numeric) return stream->async_connect(asio::ip::tcp::endpoint(address, port), connected);
    resolver.async_resolve(host, std::to_string(port),
                           [self, connected](const boost::system::error_code& ec,
                                             asio::ip::tcp::resolver::results_type r) {
                             if (ec) return self->finish(failure("cannot resolve the host: " + ec.message()));
                             self->stream->async_connect(r, connected);
                           });
  }
  void send() {
    auto self = shared_from_this();
    buffer.clear();
    parser.emplace();
    parser->body_limit(body_limit);
    bhttp::async_write(*stream, request, [self](const boost::system::error_code& ec, size_t) {
      if (ec) return self->retry_or_fail("cannot send the request: " + ec.message());
      bhttp::async_read(*self->stream, self->buffer, *self->parser, [self](const boost::system::error_code& ec, size_t n) {
        if (ec) return n == 0 ? self->retry_or_fail("no valid HTTP response: " + ec.message())
                              : self->finish(failure("no valid HTTP response: " + ec.message()));
        auto& r = self->parser->get();
        ClientResponse response;
        response.status = static_cast<int>(r.result_int());
        response.reason = std::string(r.reason());
        response.body = std::move(r.body());
        self->finish(std::move(response), r.keep_alive());
      });
    });
  }
  // A kept connection that failed before any answer was closed by the server
  // while idle: once more on a new connection.
  void retry_or_fail(std::string reason) {
    if (!reused || finished) return finish(failure(std::move(reason)));
    reused = false;
    beast::error_code ignored;
    stream->socket().close(ignored);
    stream.emplace(io);
    connect();
  }
  void finish(ClientResponse response, bool keep = false) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    resolver.cancel();
    auto* idle = pool && keep ? &pool->idle[server] : nullptr;
    if (idle && idle->size() < ConnectionPool::kIdlePerServer) {
      idle->push_back(stream->release_socket());
    } else {
      beast::error_code ignored;
      stream->socket().close(ignored);
    }
    response.received_at = std::chrono::steady_clock::now();
    std::exchange(done, nullptr)(std::move(response));
  }
};

void send_with(asio::io_context& io, std::shared_ptr<ConnectionPool> pool, ClientRequest request,
               std::function<void(ClientResponse)> done) {
  auto x = std::make_shared<Exchange>(io, pool);
  auto& r = x->request;
  auto verb = bhttp::string_to_verb(request.method);
  r.method(verb == bhttp::verb::unknown ? bhttp::verb::get : verb);
  r.target(request.target);
  r.version(11);
  bool v6 = request.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + request.host + "]" : request.host;
  r.set(bhttp::field::host, request.port == 80 ? host : host + ":" + std::to_string(request.port));
  r.set(bhttp::field::user_agent, "confab");
  if (!pool) r.set(bhttp::field::connection, "close");
  for (auto& [k, v] : request.headers) r.set(k, v);
  if (!request.body.empty() || verb == bhttp::verb::post) {
    r.body() = std::move(request.body);
    r.prepare_payload();
  }
  x->body_limit = request.body_limit;
  x->host = request.host;
  x->port = request.port;
  x->server = host + ":" + std::to_string(request.port);
  x->done = std::move(done);
  asio::post(io, [x, timeout = request.timeout] { x->start(timeout); });
}

}  // namespace

void send_request(asio::io_context& io, ClientRequest request, std::function<void(ClientResponse)> done) {
  send_with(io, nullptr, std::move(request), std::move(done));
}

struct Client::Io {
  asio::io_context context;
  std::shared_ptr<ConnectionPool> pool = std::make_shared<ConnectionPool>();
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{context.get_executor()};
};

Client::Client() : io_(std::make_unique<Io>()) {
  thread_ = std::thread([io = io_.get()] { io->context.run(); });
}

Client::~Client() {
  io_->work.reset();
  io_->context.stop();
  if (thread_.joinable()) thread_.join();
}

void Client::send(ClientRequest request, std::function<void(ClientResponse)> done) {
  ++*pending_;
  send_with(io_->context, io_->pool, std::move(request), [pending = pending_, done = std::move(done)](ClientResponse r) {
    done(std::move(r));
    --*pending;
  });
}

void Client::wait_idle(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (*pending_ > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace confab::http
