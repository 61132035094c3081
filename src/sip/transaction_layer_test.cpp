// Listen addresses as the parts' --listen options and config files write them.
#include "sip/transaction_layer.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace confab::sip
