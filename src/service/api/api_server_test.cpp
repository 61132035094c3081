// The API transports: the Unix socket and the token-protected TCP port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include "api/api_client.h"
#include "service/api/api_server.h"

namespace confab::service {
namespace {

using Client = api::ApiClient;

// The next message, or one named "EOF" / "TIMEOUT".
api::ApiMessage next(Client& c) {
  auto m = c.next(std::chrono::milliseconds(3000));
  if (m) return *m;
  return api::ApiMessage(c.closed() ? "EOF" : "TIMEOUT");
}

// Answers every message with a Result naming it; counts closes.
struct EchoHandler : ApiHandler {
  std::atomic<int> closed{0};
  void on_message(const std::shared_ptr<ApiConnection>& from, api::ApiMessage m) override {
    from->send(result(m.attr("tag"), 200, "echo " + m.name + " children=" + std::to_string(m.children.size())));
  }
  void on_closed(const std::shared_ptr<ApiConnection>&) override { ++closed; }
};

// Runs the SIP loop on this thread while `client` runs on another.
void run_with(sip::EventLoop& loop, std::function<void()> client) {
  auto done = std::async(std::launch::async, std::move(client));
  while (done.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready)
    loop.run_for(std::chrono::milliseconds(10));
  done.get();
}

std::string temp_socket() { return "/tmp/confab-service-test-" + std::to_string(getpid()) + ".sock"; }

ApiServerOptions unix_only() {
  ApiServerOptions o;
  o.unix_path = temp_socket();
  return o;
}

TEST(ApiServer, UnixSocketCarriesMessagesSplitAnywhere) {
  sip::EventLoop loop;
  EchoHandler h;
  ApiServer server(loop, unix_only(), h);
  server.start();
  run_with(loop, [&] {
    auto c = Client::unix_socket(temp_socket());
    c.send_raw("<Join id=\"sip:a@b\" tag=\"1\"><Use dev");
    c.send_raw("=\"desk\"/></Join>\n<Calls tag='2'/>");
    auto r1 = next(c);
    EXPECT_EQ(r1.name, "Result");
    EXPECT_EQ(r1.attr("tag"), "1");
    EXPECT_EQ(r1.attr("status"), "ok");
    EXPECT_EQ(r1.attr("reason"), "echo Join children=1");
    EXPECT_EQ(next(c).attr("tag"), "2");
  });
}

TEST(ApiServer, TcpRefusesWithoutTokenAndServesWithIt) {
  sip::EventLoop loop;
  EchoHandler h;
  ApiServerOptions o;
  o.tcp_port = 0;
  o.token = "s3cret";
  ApiServer server(loop, o, h);
  server.start();
  run_with(loop, [&] {
    auto bad = Client::tcp("127.0.0.1", server.tcp_port());
    bad.send_raw("<Calls tag=\"1\"/>");
    auto r = next(bad);
    EXPECT_EQ(r.attr("code"), "401");
    EXPECT_EQ(next(bad).name, "EOF");

    auto wrong = Client::tcp("127.0.0.1", server.tcp_port());
    wrong.send_raw("<Auth token=\"guess\"/><Calls/>");
    EXPECT_EQ(next(wrong).attr("code"), "401");
    EXPECT_EQ(next(wrong).name, "EOF");

    auto good = Client::tcp("127.0.0.1", server.tcp_port());
    good.send_raw("<Auth token=\"s3cret\" tag=\"a\"/><Calls tag=\"2\"/>");
    auto auth = next(good);
    EXPECT_EQ(auth.attr("code"), "200");
    EXPECT_EQ(auth.attr("tag"), "a");
    EXPECT_EQ(next(good).attr("reason"), "echo Calls children=0");
  });
}

TEST(ApiServer, HostileInputClosesOnlyThatConnection) {
  sip::EventLoop loop;
  EchoHandler h;
  ApiServer server(loop, unix_only(), h);
  server.start();
  run_with(loop, [&] {
    auto good = Client::unix_socket(temp_socket());
    auto bomb = Client::unix_socket(temp_socket());
    bomb.send_raw("<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><Join id=\"&b;\"/>");
    auto r = next(bomb);
    EXPECT_EQ(r.attr("code"), "400");
    EXPECT_EQ(next(bomb).name, "EOF");

    auto big = Client::unix_socket(temp_socket());
    big.send_raw("<Join id=\"" + std::string(2 * 1024 * 1024, 'x'));  // the server stops reading at 256 KB
    auto r2 = next(big);
    EXPECT_EQ(r2.attr("code"), "400");
    EXPECT_NE(r2.attr("reason").find("larger"), std::string::npos);

    auto deep = Client::unix_socket(temp_socket());
    std::string nest;
    for (int i = 0; i < 50; ++i) nest += "<a>";
    deep.send_raw(nest);
    EXPECT_EQ(next(deep).attr("code"), "400");

    good.send_raw("<Calls tag=\"still\"/>");
    EXPECT_EQ(next(good).attr("tag"), "still");
  });
  loop.run_for(std::chrono::milliseconds(50));
  EXPECT_GE(h.closed.load(), 3);
}

TEST(ApiServer, SendAfterTheServerIsGoneIsHarmless) {
  std::shared_ptr<ApiConnection> kept;
  struct Keeper : ApiHandler {
    std::shared_ptr<ApiConnection>* slot;
    void on_message(const std::shared_ptr<ApiConnection>& from, api::ApiMessage) override { *slot = from; }
  } h;
  h.slot = &kept;
  sip::EventLoop loop;
  {
    ApiServer server(loop, unix_only(), h);
    server.start();
    run_with(loop, [&] {
      auto c = Client::unix_socket(temp_socket());
      c.send_raw("<Calls/>");
      for (int i = 0; i < 100 && !kept; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    });
  }
  ASSERT_TRUE(kept);
  kept->send(result("", 200, "nobody listens"));  // must not crash
}

}  // namespace
}  // namespace confab::service
