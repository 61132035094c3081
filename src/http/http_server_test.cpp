#include "http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace confab::http;

namespace {

// One HTTP/1.1 exchange over a fresh connection; returns the raw response.
std::string http_exchange(uint16_t port, const std::string& request) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return "connect failed";
  size_t sent = 0;
  while (sent < request.size()) {
    auto n = ::send(s, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[4096];
  timeval tv{2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(s);
  return out;
}

}  // namespace

TEST(HttpServer, RoutesTokensAndErrors) {
  Server server("127.0.0.1", 0);
  server.route("GET", "/hello", [](const Request& r) { return Response::json(200, "{\"q\":\"" + r.query_param("q") + "\"}"); });
  server.route("POST", "/items/", [](const Request& r) { return Response::json(201, r.path + ":" + r.body); });
  server.start();
  auto port = server.port();
  auto ok = http_exchange(port, "GET /hello?q=7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ok.find("200 OK"), std::string::npos);
  EXPECT_NE(ok.find("{\"q\":\"7\"}"), std::string::npos);
  auto post = http_exchange(port, "POST /items/42 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  EXPECT_NE(post.find("201"), std::string::npos);
  EXPECT_NE(post.find("/items/42:abc"), std::string::npos);
  EXPECT_NE(http_exchange(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("404"), std::string::npos);
  EXPECT_NE(http_exchange(port, "DELETE /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("405"), std::string::npos);
  EXPECT_NE(http_exchange(port, "garbage\r\n\r\n").find("400"), std::string::npos);
  // Bodies over the limit are refused, and the server keeps serving.
  std::string big(Server::kMaxBody + 10, 'a');
  auto too_big = http_exchange(port, "POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(big.size()) +
                                    "\r\n\r\n" + big);
  EXPECT_NE(too_big.find("413"), std::string::npos);
  server.require_token("s3cret");
  auto no_token = http_exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(no_token.rfind("HTTP/1.1 401", 0), 0u) << no_token;
  EXPECT_NE(no_token.find("WWW-Authenticate: Bearer realm=\"confab\"\r\n"), std::string::npos) << no_token;
  EXPECT_NE(no_token.find("{\"error\":\"missing bearer token\"}"), std::string::npos) << no_token;
  auto wrong = http_exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nConnection: close\r\n\r\n");
  EXPECT_NE(wrong.find("WWW-Authenticate: Bearer realm=\"confab\", error=\"invalid_token\""), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("{\"error\":\"wrong bearer token\"}"), std::string::npos) << wrong;
  EXPECT_NE(http_exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n")
                .find("200 OK"),
            std::string::npos);
  server.stop();
}

TEST(HttpServer, ABindFailureSaysWhy) {
  Server first("127.0.0.1", 0);
  auto taken = first.port();
  try {
    Server second("127.0.0.1", taken);
    FAIL() << "two servers on one port";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot listen for HTTP on 127.0.0.1:" + std::to_string(taken) +
                                          ": address already in use", 0), 0u) << e.what();
  }
  try {
    Server foreign("192.0.2.1", 8080);  // TEST-NET-1: no host's address
    FAIL() << "listening on 192.0.2.1";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not an address of this host"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Server("localhost", 0), std::runtime_error);  // an IP address, not a name
}

TEST(HttpServer, CallOnRunsOnTheLoopThread) {
  // Sofia ties a loop to the thread that creates it: create and run it there.
  std::promise<confab::sip::EventLoop*> ready;
  std::thread::id loop_thread;
  std::thread t([&] {
    confab::sip::EventLoop own;
    loop_thread = std::this_thread::get_id();
    ready.set_value(&own);
    own.run();
  });
  auto& loop = *ready.get_future().get();
  std::thread::id ran_on;
  auto r = call_on(loop, [&] {
    ran_on = std::this_thread::get_id();
    return Response::json(200, "{}");
  });
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ran_on, loop_thread);
  loop.stop();
  t.join();
}

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace {

namespace beast = boost::beast;
using WsClient = beast::websocket::stream<boost::asio::ip::tcp::socket>;

// Opens ws://127.0.0.1:port/path with `origin`; throws on a refused handshake.
std::unique_ptr<WsClient> ws_connect(boost::asio::io_context& io, uint16_t port, const std::string& path,
                                     const std::string& origin) {
  auto ws = std::make_unique<WsClient>(io);
  ws->next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
  ws->set_option(beast::websocket::stream_base::decorator(
      [origin](beast::websocket::request_type& req) { req.set(beast::http::field::origin, origin); }));
  ws->handshake("127.0.0.1:" + std::to_string(port), path);
  return ws;
}

TEST(HttpServer, WebSocketsAdmitByRequestAndCarryTextBothWays) {
  Server server("127.0.0.1", 0);
  std::atomic<int> opened{0}, closed{0};
  WebSocketHandler h;
  h.admit = [](const Request& r) -> std::optional<Response> {
    if (r.header("origin") != "http://good.example") return Response::error(403, "origin not approved");
    return std::nullopt;
  };
  h.on_open = [&](const std::shared_ptr<WebSocket>&, const Request&) { ++opened; };
  h.on_message = [](const std::shared_ptr<WebSocket>& ws, std::string text) {
    for (auto& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ws->send(text);
    if (text == "BYE") ws->close();
  };
  h.on_close = [&](const std::shared_ptr<WebSocket>&) { ++closed; };
  h.max_message = 1024;
  server.websocket("/ws", h);
  server.start();

  boost::asio::io_context io;
  auto ws = ws_connect(io, server.port(), "/ws", "http://good.example");
  ws->write(boost::asio::buffer(std::string("hello")));
  beast::flat_buffer b;
  ws->read(b);
  EXPECT_EQ(beast::buffers_to_string(b.data()), "HELLO");
  b.consume(b.size());
  ws->write(boost::asio::buffer(std::string("bye")));
  ws->read(b);
  EXPECT_EQ(beast::buffers_to_string(b.data()), "BYE");
  beast::error_code ec;
  ws->read(b, ec);  // the server closes
  EXPECT_EQ(ec, beast::websocket::error::closed);

  EXPECT_THROW(ws_connect(io, server.port(), "/ws", "http://evil.example"), boost::system::system_error);
  EXPECT_THROW(ws_connect(io, server.port(), "/other", "http://good.example"), boost::system::system_error);

  auto big = ws_connect(io, server.port(), "/ws", "http://good.example");
  big->write(boost::asio::buffer(std::string(4096, 'x')));  // over max_message: closed with 1009
  big->read(b, ec);
  EXPECT_TRUE(ec);
  for (int i = 0; i < 100 && closed < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(opened.load(), 2);
  EXPECT_EQ(closed.load(), 2);
  server.stop();
}

}  // namespace

TEST(HttpServer, FallbackHeadAndOversizedHeaders) {
  Server server("127.0.0.1", 0);
  server.route("GET", "/exact", [](const Request&) { return Response::json(200, "{}"); });
  server.fallback([](const Request& r) { return Response{200, "text/plain", r.method + " " + r.path, {}}; });
  server.start();
  auto port = server.port();
  auto any = http_exchange(port, "PUT /some/where HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_NE(any.find("PUT /some/where"), std::string::npos) << any;
  // HEAD: the GET's Content-Length, no body.
  auto head = http_exchange(port, "HEAD /file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 10"), std::string::npos) << head;
  EXPECT_EQ(head.find("HEAD /file"), std::string::npos) << head;
  std::string huge(20 * 1024, 'a');
  EXPECT_NE(http_exchange(port, "GET /" + huge + " HTTP/1.1\r\nHost: x\r\n\r\n").find("431"), std::string::npos);
  EXPECT_NE(http_exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + huge + "\r\n\r\n").find("431"), std::string::npos);
}
