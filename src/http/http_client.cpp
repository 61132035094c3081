#include "http/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <optional>

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

// One request over a fresh connection, bounded by one deadline for everything.
struct Exchange : std::enable_shared_from_this<Exchange> {
  explicit Exchange(asio::io_context& io) : resolver(io), stream(io), deadline(io) {}
  asio::ip::tcp::resolver resolver;
  beast::tcp_stream stream;
  asio::steady_timer deadline;
  bhttp::request<bhttp::string_body> request;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  std::function<void(ClientResponse)> done;
  bool finished = false;

  void start(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
    auto self = shared_from_this();
    deadline.expires_after(timeout);
    deadline.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->finish(failure("no answer within the time allowed", true));
    });
    resolver.async_resolve(host, std::to_string(port),
                           [self](const boost::system::error_code& ec, asio::ip::tcp::resolver::results_type r) {
                             if (ec) return self->finish(failure("cannot resolve the host: " + ec.message()));
                             self->stream.async_connect(r, [self](const boost::system::error_code& ec, auto&&) {
                               if (ec) return self->finish(failure("cannot connect: " + ec.message()));
                               self->send();
                             });
                           });
  }
  void send() {
    auto self = shared_from_this();
    bhttp::async_write(stream, request, [self](const boost::system::error_code& ec, size_t) {
      if (ec) return self->finish(failure("cannot send the request: " + ec.message()));
      bhttp::async_read(self->stream, self->buffer, self->parser, [self](const boost::system::error_code& ec, size_t) {
        if (ec) return self->finish(failure("no valid HTTP response: " + ec.message()));
        auto& r = self->parser.get();
        ClientResponse response;
        response.status = static_cast<int>(r.result_int());
        response.reason = std::string(r.reason());
        response.body = std::move(r.body());
        self->finish(std::move(response));
      });
    });
  }
  void finish(ClientResponse response) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    resolver.cancel();
    beast::error_code ignored;
    stream.socket().close(ignored);
    response.received_at = std::chrono::steady_clock::now();
    std::exchange(done, nullptr)(std::move(response));
  }
};

}  // namespace

void send_request(asio::io_context& io, ClientRequest request, std::function<void(ClientResponse)> done) {
  auto x = std::make_shared<Exchange>(io);
  auto& r = x->request;
  auto verb = bhttp::string_to_verb(request.method);
  r.method(verb == bhttp::verb::unknown ? bhttp::verb::get : verb);
  r.target(request.target);
  r.version(11);
  bool v6 = request.host.find(':') != std::string::npos;
  std::string host = v6 ? "[" + request.host + "]" : request.host;
  r.set(bhttp::field::host, request.port == 80 ? host : host + ":" + std::to_string(request.port));
  r.set(bhttp::field::user_agent, "confab");
  r.set(bhttp::field::connection, "close");
  for (auto& [k, v] : request.headers) r.set(k, v);
  if (!request.body.empty() || verb == bhttp::verb::post) {
    r.body() = std::move(request.body);
    r.prepare_payload();
  }
  x->parser.body_limit(request.body_limit);
  x->done = std::move(done);
  asio::post(io, [x, host = request.host, port = request.port, timeout = request.timeout] { x->start(host, port, timeout); });
}

struct Client::Io {
  asio::io_context context;
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
  send_request(io_->context, std::move(request), [pending = pending_, done = std::move(done)](ClientResponse r) {
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
