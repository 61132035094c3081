#include "base/ip_network.h"

#include <gtest/gtest.h>

using confab::base::IpNetwork;

TEST(IpNetwork, MatchesAddressesInsideItsPrefix) {
  auto lan = IpNetwork::parse("10.1.2.3/8");
  ASSERT_TRUE(lan);
  EXPECT_EQ(lan->str(), "10.0.0.0/8");
  EXPECT_TRUE(lan->contains("10.0.0.1"));
  EXPECT_TRUE(lan->contains("10.255.255.255"));
  EXPECT_TRUE(lan->contains("::ffff:10.9.9.9")) << "IPv4-mapped IPv6 is IPv4";
  EXPECT_FALSE(lan->contains("11.0.0.1"));
  EXPECT_FALSE(lan->contains("::1"));
  EXPECT_FALSE(lan->contains("not an address"));

  auto odd = IpNetwork::parse("172.16.0.0/12");
  EXPECT_TRUE(odd->contains("172.31.255.1"));
  EXPECT_FALSE(odd->contains("172.32.0.1"));

  auto host = IpNetwork::parse("127.0.0.2");
  EXPECT_EQ(host->str(), "127.0.0.2/32");
  EXPECT_TRUE(host->contains("127.0.0.2"));
  EXPECT_FALSE(host->contains("127.0.0.1"));

  auto ula = IpNetwork::parse("fd00::/8");
  EXPECT_TRUE(ula->contains("fd12:3456::1"));
  EXPECT_FALSE(ula->contains("fe80::1"));
  EXPECT_FALSE(ula->contains("10.0.0.1"));
  EXPECT_TRUE(IpNetwork::parse("::1")->contains("::1"));
  EXPECT_TRUE(IpNetwork::parse("0.0.0.0/0")->contains("192.0.2.1"));
}

TEST(IpNetwork, RefusesWhatIsNotANetwork) {
  for (const char* bad : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/8x", "::/129", "host.example",
                          "10.0.0", "10.0.0.0/ 8"})
    EXPECT_FALSE(IpNetwork::parse(bad)) << bad;
}
