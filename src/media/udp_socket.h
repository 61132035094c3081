// Non-blocking UDP sockets for RTP, and the allocator of RTP ports from a range.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace confab::media {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  // Parses "1.2.3.4" / "::1" with a port; nullopt if not a numeric address.
  static std::optional<Endpoint> from(const std::string& host, uint16_t port);
  std::string str() const;
  uint16_t port() const;
  bool operator==(const Endpoint& o) const;
  // An address that is only reachable inside some network: RFC 1918, RFC 6598
  // (carrier-grade NAT), link-local, IPv6 unique-local and link-local.
  bool is_private() const;
};

class UdpSocket {
 public:
  UdpSocket() = default;
  // Binds `host:port` (port 0 = any); throws std::runtime_error on failure.
  UdpSocket(const std::string& host, uint16_t port, int buffer_bytes = 0);
  ~UdpSocket();
  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int fd() const { return fd_; }
  uint16_t local_port() const;
  bool send_to(const uint8_t* data, size_t size, const Endpoint& to);
  // Returns bytes received (0: nothing pending, -1: error); `from` filled.
  long receive(uint8_t* data, size_t capacity, Endpoint* from);

 private:
  int fd_ = -1;
};

// Hands out even RTP ports (RTCP = port + 1) from [low, high], thread-safe.
class PortRange {
 public:
  PortRange(uint16_t low, uint16_t high);
  // Binds an RTP socket (and its RTCP neighbour) on `host`; nullopt when exhausted.
  struct Pair {
    UdpSocket rtp, rtcp;
  };
  std::optional<Pair> allocate(const std::string& host, int buffer_bytes = 0);

 private:
  std::mutex mutex_;
  uint16_t low_, high_, next_;
};

}  // namespace confab::media
