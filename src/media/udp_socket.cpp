#include "media/udp_socket.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace confab::media {

namespace {

const sockaddr_in& v4(const Endpoint& e) { return *reinterpret_cast<const sockaddr_in*>(&e.addr); }
const sockaddr_in6& v6(const Endpoint& e) { return *reinterpret_cast<const sockaddr_in6*>(&e.addr); }

std::runtime_error socket_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

}  // namespace

std::optional<Endpoint> Endpoint::from(const std::string& host, uint16_t port) {
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  Endpoint e;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&e.addr);
  if (inet_pton(AF_INET, name.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    e.len = sizeof(sockaddr_in);
    return e;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&e.addr);
  if (inet_pton(AF_INET6, name.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    e.len = sizeof(sockaddr_in6);
    return e;
  }
  return std::nullopt;
}

std::string Endpoint::str() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    inet_ntop(AF_INET, &v4(*this).sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(port());
  }
  if (addr.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &v6(*this).sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(port());
  }
  return "?";
}

uint16_t Endpoint::port() const {
  if (addr.ss_family == AF_INET) return ntohs(v4(*this).sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(v6(*this).sin6_port);
  return 0;
}

bool Endpoint::operator==(const Endpoint& o) const {
  if (addr.ss_family != o.addr.ss_family) return false;
  if (addr.ss_family == AF_INET)
    return v4(*this).sin_port == v4(o).sin_port && v4(*this).sin_addr.s_addr == v4(o).sin_addr.s_addr;
  if (addr.ss_family == AF_INET6)
    return v6(*this).sin6_port == v6(o).sin6_port && v6(*this).sin6_scope_id == v6(o).sin6_scope_id &&
           std::memcmp(&v6(*this).sin6_addr, &v6(o).sin6_addr, sizeof(in6_addr)) == 0;
  return len == o.len;
}

bool Endpoint::is_private() const {
  if (addr.ss_family == AF_INET) {
    uint32_t a = ntohl(v4(*this).sin_addr.s_addr);
    return (a >> 24) == 10 || (a >> 20) == (172u << 4 | 1) || (a >> 16) == (192u << 8 | 168) ||
           (a >> 22) == (100u << 2 | 1) || (a >> 16) == (169u << 8 | 254);
  }
  if (addr.ss_family == AF_INET6) {
    const uint8_t* b = v6(*this).sin6_addr.s6_addr;
    return (b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
  }
  return false;
}

UdpSocket::UdpSocket(const std::string& host, uint16_t port, int buffer_bytes) {
  auto local = Endpoint::from(host, port);
  if (!local) throw std::runtime_error("UDP bind: not a numeric address: " + host);
  fd_ = ::socket(local->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw socket_error("UDP socket");
  if (buffer_bytes > 0) {
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local->addr), local->len) != 0) {
    auto error = socket_error("UDP bind " + local->str());
    ::close(fd_);
    fd_ = -1;
    throw error;
  }
}

UdpSocket::~UdpSocket() {
  if (fd_ >= 0) ::close(fd_);
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

uint16_t UdpSocket::local_port() const {
  Endpoint local;
  local.len = sizeof local.addr;
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&local.addr), &local.len) != 0) return 0;
  return local.port();
}

bool UdpSocket::send_to(const uint8_t* data, size_t size, const Endpoint& to) {
  if (fd_ < 0) return false;
  ssize_t sent;
  do {
    sent = ::sendto(fd_, data, size, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&to.addr), to.len);
  } while (sent < 0 && errno == EINTR);
  return sent == static_cast<ssize_t>(size);
}

long UdpSocket::receive(uint8_t* data, size_t capacity, Endpoint* from) {
  if (fd_ < 0) return -1;
  Endpoint sender;
  sender.len = sizeof sender.addr;
  ssize_t got;
  do {
    got = ::recvfrom(fd_, data, capacity, 0, reinterpret_cast<sockaddr*>(&sender.addr), &sender.len);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  if (from) *from = sender;
  return static_cast<long>(got);
}

PortRange::PortRange(uint16_t low, uint16_t high)
    : low_(static_cast<uint16_t>(low + (low & 1))), high_(high), next_(low_) {}

std::optional<PortRange::Pair> PortRange::allocate(const std::string& host, int buffer_bytes) {
  if (!Endpoint::from(host, 0)) throw std::runtime_error("PortRange: not a numeric address: " + host);
  std::lock_guard lock(mutex_);
  // Even ports p with p + 1 <= high; count them in int to avoid 16-bit overflow.
  int first = low_, last = high_;
  if (low_ < 2 || first + 1 > last) return std::nullopt;
  int pairs = (last - 1 - first) / 2 + 1;
  int start = next_ < first || next_ + 1 > last ? first : next_;
  for (int i = 0; i < pairs; ++i) {
    int port = first + ((start - first) / 2 + i) % pairs * 2;
    try {
      UdpSocket rtp(host, static_cast<uint16_t>(port), buffer_bytes);
      UdpSocket rtcp(host, static_cast<uint16_t>(port + 1), buffer_bytes);
      next_ = static_cast<uint16_t>(port + 2 > last ? first : port + 2);
      return Pair{std::move(rtp), std::move(rtcp)};
    } catch (const std::runtime_error&) {
      // in use: try the next pair
    }
  }
  return std::nullopt;
}

}  // namespace confab::media
