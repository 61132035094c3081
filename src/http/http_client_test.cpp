// The HTTP client against the project's own server, and against peers that
// refuse or never answer.
#include "http/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "http/http_server.h"

namespace confab::http {
namespace {

ClientResponse fetch(Client& client, ClientRequest request) {
  std::promise<ClientResponse> p;
  auto f = p.get_future();
  client.send(std::move(request), [&p](ClientResponse r) { p.set_value(std::move(r)); });
  return f.get();
}

TEST(HttpClient, SendsMethodHeadersAndBodyAndReadsTheAnswer) {
  Server server("127.0.0.1", 0);
  server.route("POST", "/move", [](const Request& r) {
    return Response::json(r.header("authorization") == "Bearer t" ? 200 : 401, "{\"got\":" + r.body + "}");
  });
  server.start();
  Client client;
  ClientRequest r;
  r.method = "POST";
  r.host = "127.0.0.1";
  r.port = server.port();
  r.target = "/move";
  r.headers = {{"Authorization", "Bearer t"}, {"Content-Type", "application/json"}};
  r.body = "{\"to\":\"room2\"}";
  auto answer = fetch(client, r);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "{\"got\":{\"to\":\"room2\"}}");
  EXPECT_EQ(answer.error(), "");
  r.target = "/nothing";
  answer = fetch(client, r);
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.error().rfind("HTTP 404", 0), 0u) << answer.error();
  server.stop();
}

TEST(HttpClient, RefusedAndSilentPeersGiveClearErrors) {
  // A port nobody listens on, then one that accepts and never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  uint16_t port = ntohs(a.sin_port);
  Client client;
  ClientRequest r;
  r.host = "127.0.0.1";
  r.port = port;
  r.timeout = std::chrono::milliseconds(300);
  auto refused = fetch(client, r);  // bound, not listening
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error().find("cannot connect"), std::string::npos) << refused.error();
  ::listen(fd, 1);
  auto silent = fetch(client, r);
  EXPECT_TRUE(silent.timed_out);
  EXPECT_EQ(silent.error(), "no answer within the time allowed");
  ::close(fd);
}

// A server on a raw socket that answers each request "ok" and counts the
// connections it accepted; it closes each connection after `per_connection` answers.
class CountingServer {
 public:
  explicit CountingServer(int per_connection) : per_connection_(per_connection) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] { serve(); });
  }
  ~CountingServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void serve() {
    for (int c; (c = ::accept(fd_, nullptr, nullptr)) >= 0; ::close(c)) {
      ++accepted_;
      std::string got;
      char buf[4096];
      for (int answered = 0; answered < per_connection_;) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
        for (size_t end; (end = got.find("\r\n\r\n")) != std::string::npos; ++answered) {
          got.erase(0, end + 4);
          const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
          if (::write(c, answer, sizeof answer - 1) < 0) break;
        }
      }
    }
  }
  int fd_ = -1, per_connection_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

TEST(HttpClient, KeepsTheConnectionForTheNextRequestAndReconnectsWhenTheServerClosedIt) {
  CountingServer server(2);  // closes each connection after two answers
  Client client;
  ClientRequest r;
  r.host = "127.0.0.1";
  r.port = server.port();
  for (int i = 0; i < 5; ++i) {
    auto answer = fetch(client, r);
    EXPECT_EQ(answer.status, 200) << i << ": " << answer.error();
    EXPECT_EQ(answer.body, "ok");
  }
  // 1+2 on the first connection, 3+4 on the second (the client found the first
  // closed and sent 3 again on a new one), 5 on the third.
  EXPECT_EQ(server.accepted(), 3);
}

}  // namespace
}  // namespace confab::http
