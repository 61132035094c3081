#include "media/udp_socket.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

using namespace confab::media;

namespace {

// Waits up to a second for a datagram on a non-blocking socket.
long receive_soon(UdpSocket& socket, uint8_t* data, size_t capacity, Endpoint* from) {
  for (int i = 0; i < 1000; ++i) {
    long n = socket.receive(data, capacity, from);
    if (n != 0) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}

}  // namespace

TEST(Endpoint, ParsesNumericAddresses) {
  auto v4 = Endpoint::from("127.0.0.1", 4000);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->port(), 4000);
  EXPECT_EQ(v4->str(), "127.0.0.1:4000");
  auto v6 = Endpoint::from("::1", 4002);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->str(), "[::1]:4002");
  EXPECT_EQ(Endpoint::from("[::1]", 4002), v6);
  EXPECT_EQ(Endpoint::from("127.0.0.1", 4000), v4);
  EXPECT_FALSE(*v4 == *Endpoint::from("127.0.0.1", 4001));
  EXPECT_FALSE(*v4 == *Endpoint::from("127.0.0.2", 4000));
  EXPECT_FALSE(*v4 == *v6);
  EXPECT_FALSE(Endpoint::from("localhost", 1));
  EXPECT_FALSE(Endpoint::from("1.2.3", 1));
  EXPECT_FALSE(Endpoint::from("", 1));
}

TEST(UdpSocket, LoopbackSendAndReceive) {
  UdpSocket a("127.0.0.1", 0), b("127.0.0.1", 0, 1 << 16);
  ASSERT_NE(a.local_port(), 0);
  ASSERT_NE(b.local_port(), 0);
  uint8_t buffer[1500];
  Endpoint from;
  EXPECT_EQ(b.receive(buffer, sizeof buffer, &from), 0);  // nothing pending

  const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(a.send_to(hello, sizeof hello, *Endpoint::from("127.0.0.1", b.local_port())));
  ASSERT_EQ(receive_soon(b, buffer, sizeof buffer, &from), 5);
  EXPECT_EQ(std::string(buffer, buffer + 5), "hello");
  EXPECT_EQ(from, Endpoint::from("127.0.0.1", a.local_port()));
  EXPECT_EQ(b.receive(buffer, sizeof buffer, &from), 0);

  // Moving keeps the socket open.
  UdpSocket moved = std::move(b);
  EXPECT_EQ(b.fd(), -1);
  ASSERT_TRUE(a.send_to(hello, 2, *Endpoint::from("127.0.0.1", moved.local_port())));
  EXPECT_EQ(receive_soon(moved, buffer, sizeof buffer, nullptr), 2);
}

TEST(UdpSocket, Ipv6Loopback) {
  std::unique_ptr<UdpSocket> a, b;
  try {
    a = std::make_unique<UdpSocket>("::1", 0);
    b = std::make_unique<UdpSocket>("::1", 0);
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  const uint8_t ping[] = {1, 2, 3};
  ASSERT_TRUE(a->send_to(ping, sizeof ping, *Endpoint::from("::1", b->local_port())));
  uint8_t buffer[16];
  Endpoint from;
  EXPECT_EQ(receive_soon(*b, buffer, sizeof buffer, &from), 3);
  EXPECT_EQ(from.port(), a->local_port());
}

TEST(UdpSocket, BindFailuresThrow) {
  EXPECT_THROW(UdpSocket("not-an-address", 0), std::runtime_error);
  UdpSocket a("127.0.0.1", 0);
  EXPECT_THROW(UdpSocket("127.0.0.1", a.local_port()), std::runtime_error);  // in use, no SO_REUSEADDR
}

TEST(PortRange, HandsOutDistinctEvenPairs) {
  PortRange range(40001, 40100);  // odd low end: starts at 40002
  std::vector<PortRange::Pair> pairs;
  std::set<uint16_t> ports;
  for (int i = 0; i < 10; ++i) {
    auto pair = range.allocate("127.0.0.1");
    ASSERT_TRUE(pair);
    uint16_t rtp = pair->rtp.local_port();
    EXPECT_EQ(rtp % 2, 0);
    EXPECT_GE(rtp, 40002);
    EXPECT_LE(rtp, 40098);
    EXPECT_EQ(pair->rtcp.local_port(), rtp + 1);
    EXPECT_TRUE(ports.insert(rtp).second) << rtp << " handed out twice";
    pairs.push_back(std::move(*pair));
  }
}

TEST(PortRange, SkipsBusyPortsWrapsAndReportsExhaustion) {
  // Three pairs: 40060/61, 40062/63, 40064/65. Someone else holds 40063.
  UdpSocket squatter("127.0.0.1", 40063);
  PortRange range(40060, 40065);
  auto first = range.allocate("127.0.0.1");
  auto second = range.allocate("127.0.0.1");
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->rtp.local_port(), 40060);
  EXPECT_EQ(second->rtp.local_port(), 40064);  // 40062 skipped: its RTCP port is taken
  EXPECT_FALSE(range.allocate("127.0.0.1"));

  // Releasing a pair makes it available again, found by wrapping around.
  first.reset();
  auto again = range.allocate("127.0.0.1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->rtp.local_port(), 40060);
  EXPECT_FALSE(range.allocate("127.0.0.1"));

  PortRange empty(40070, 40070);
  EXPECT_FALSE(empty.allocate("127.0.0.1"));
  EXPECT_THROW(range.allocate("nowhere"), std::runtime_error);
}
