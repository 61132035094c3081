#include "base/host_port.h"

#include <gtest/gtest.h>

namespace confab::base {
namespace {

TEST(HostPort, ReadsNamesAddressesAndBracketedIpv6) {
  auto a = parse_host_port("127.0.0.1:5065", "api_tcp");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 5065);
  EXPECT_EQ(a.str(), "127.0.0.1:5065");
  auto b = parse_host_port("[::1]:0", "web_api");
  EXPECT_EQ(b.host, "::1");
  EXPECT_EQ(b.port, 0);  // any free port
  EXPECT_EQ(b.str(), "[::1]:0");
  EXPECT_EQ(parse_host_port("pbx.example.com:5060", "x").host, "pbx.example.com");
  auto c = split_host_port("pbx", true);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->port, 0);
}

TEST(HostPort, RefusesWhatIsNotHostColonPortAndSaysWhich) {
  for (auto bad : {"127.0.0.1:x", "127.0.0.1", ":5065", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:50 65", "::1:5065",
                   "[::1", "[127.0.0.1]:80", "a b:1", "127.0.0.1:", "127.0.0.1:5065x", ""})
    EXPECT_FALSE(split_host_port(bad)) << bad;
  try {
    parse_host_port("127.0.0.1:x", "api_tcp");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("api_tcp must be HOST:PORT"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'127.0.0.1:x'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(parse_port("70000"));
  EXPECT_FALSE(parse_port("+5"));
  EXPECT_EQ(parse_port("5060"), 5060);
}

TEST(PortRange, LowDashHighOnly) {
  EXPECT_EQ(parse_port_range("20000-29999", "--rtp-ports"), (std::pair<uint16_t, uint16_t>{20000, 29999}));
  EXPECT_EQ(split_port_range("5-5"), (std::pair<uint16_t, uint16_t>{5, 5}));
  for (auto bad : {"", "20000", "20000-", "-29999", "29999-20000", "0-10", "1-70000", "a-b", "1 - 2", "1-2-3"})
    EXPECT_FALSE(split_port_range(bad)) << bad;
  try {
    parse_port_range("20000-x", "--rtp-ports");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--rtp-ports must be LOW-HIGH"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace confab::base
