// The HTTP client against the project's own server, and against peers that
// refuse or never answer.
#include "http/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <future>

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

}  // namespace
}  // namespace confab::http
