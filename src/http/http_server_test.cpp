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
  EXPECT_NE(http_exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("401"), std::string::npos);
  EXPECT_NE(http_exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n")
                .find("200 OK"),
            std::string::npos);
  server.stop();
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
