// Listen addresses as the parts' --listen options and config files write them.
#include "sip/transaction_layer.h"

#include <gtest/gtest.h>

#include "sip/event_loop.h"

namespace confab::sip {
namespace {

TEST(ListenSpec, TransportHostAndPort) {
  auto a = ListenSpec::parse("udp:127.0.0.1:5060");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->str(), "udp:127.0.0.1:5060");
  auto b = ListenSpec::parse("TCP:[::1]:5070");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->transport, "tcp");
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 5070);
  EXPECT_EQ(b->sofia_url(), "sip:[::1]:5070;transport=tcp");
  auto c = ListenSpec::parse("127.0.0.2");  // udp, 5060
  ASSERT_TRUE(c);
  EXPECT_EQ(c->str(), "udp:127.0.0.2:5060");
  EXPECT_EQ(ListenSpec::parse("[::1]")->port, 5060);
  for (auto bad : {"", "udp:", "127.0.0.1:0", "127.0.0.1:x", "127.0.0.1:65536", ":5060", "::1:5060", "[::1"})
    EXPECT_FALSE(ListenSpec::parse(bad)) << bad;
}

struct Ignore : TransactionLayer::Handler {
  void on_request(Message) override {}
  void on_stray_response(Message) override {}
};

std::string listen_error(EventLoop& loop, const std::vector<std::string>& specs) {
  Ignore ignore;
  TransactionLayerOptions o;
  for (auto& s : specs) o.listen.push_back(*ListenSpec::parse(s));
  try {
    TransactionLayer layer(loop, o, ignore);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "listening";
}

// Sofia-SIP does not say why it cannot bind: the error says what a plain socket meets there.
TEST(TransactionLayer, ABindFailureSaysWhy) {
  EventLoop loop;
  Ignore ignore;
  TransactionLayerOptions o;
  o.listen.push_back(*ListenSpec::parse("udp:127.0.0.1:40190"));
  TransactionLayer holder(loop, o, ignore);
  EXPECT_EQ(listen_error(loop, {"udp:127.0.0.1:40190"}).rfind("cannot listen on udp:127.0.0.1:40190: address already in use", 0), 0u)
      << listen_error(loop, {"udp:127.0.0.1:40190"});
  // The second of two addresses: named, while the first is still bound.
  auto second = listen_error(loop, {"udp:127.0.0.1:40192", "udp:127.0.0.1:40190"});
  EXPECT_EQ(second.rfind("cannot listen on udp:127.0.0.1:40190: address already in use", 0), 0u) << second;
  auto foreign = listen_error(loop, {"udp:192.0.2.1:40190"});  // TEST-NET-1: no host's address
  EXPECT_EQ(foreign.rfind("cannot listen on udp:192.0.2.1:40190: not an address of this host", 0), 0u) << foreign;
}

}  // namespace
}  // namespace confab::sip
