#include "base/bind_error.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace confab::base {
namespace {

bool contains(const std::optional<std::string>& text, std::string_view part) {
  return text && text->find(part) != std::string::npos;
}

// A socket bound to 127.0.0.1 on a free port, held for the test.
struct HeldPort {
  int fd = -1;
  uint16_t port = 0;
  explicit HeldPort(int type) {
    fd = socket(AF_INET, type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    if (type == SOCK_STREAM) EXPECT_EQ(listen(fd, 1), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~HeldPort() { close(fd); }
};

TEST(BindError, APortInUseSaysSoAndHowToFindTheHolder) {
  HeldPort udp(SOCK_DGRAM), tcp(SOCK_STREAM);
  auto u = bind_failure("udp", "127.0.0.1", udp.port);
  EXPECT_TRUE(contains(u, "address already in use")) << u.value_or("bound");
  EXPECT_TRUE(contains(u, "ss -lntup")) << u.value_or("bound");
  auto t = bind_failure("tcp", "127.0.0.1", tcp.port);
  EXPECT_TRUE(contains(t, "address already in use")) << t.value_or("bound");
}

TEST(BindError, AnAddressOfAnotherHostSaysSo) {
  // 192.0.2.1 (TEST-NET-1, RFC 5737) is nobody's address.
  auto r = bind_failure("udp", "192.0.2.1", 5090);
  EXPECT_TRUE(contains(r, "not an address of this host")) << r.value_or("bound");
}

TEST(BindError, AFreeAddressBinds) {
  uint16_t port;
  {
    HeldPort p(SOCK_DGRAM);
    port = p.port;
  }
  EXPECT_EQ(bind_failure("udp", "127.0.0.1", port), std::nullopt);
}

TEST(BindError, ANameIsResolvedFirst) {
  EXPECT_EQ(bind_failure("udp", "localhost", 0), std::nullopt);  // /etc/hosts, no DNS needed
}

TEST(BindError, ReasonsForTheCommonErrors) {
  EXPECT_NE(bind_error_reason(EACCES, 80).find("below 1024"), std::string::npos);
  EXPECT_EQ(bind_error_reason(EACCES, 8080).find("below 1024"), std::string::npos);
  EXPECT_NE(bind_error_reason(EADDRNOTAVAIL, 5090).find("ip -brief address"), std::string::npos);
  EXPECT_EQ(bind_error_reason(EINVAL, 5090), "Invalid argument");
}

}  // namespace
}  // namespace confab::base
