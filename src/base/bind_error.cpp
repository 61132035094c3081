#include "base/bind_error.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace confab::base {

namespace {

struct AddrInfoDeleter {
  void operator()(addrinfo* a) const { freeaddrinfo(a); }
};

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

}  // namespace

std::string bind_error_reason(int error_number, uint16_t port) {
  switch (error_number) {
    case EADDRINUSE:
      return "address already in use: another process (or another part of this one) listens there; "
             "`ss -lntup` shows which";
    case EADDRNOTAVAIL:
      return "not an address of this host: listen on one that `ip -brief address` lists, or 0.0.0.0";
    case EACCES:
    case EPERM:
      if (port > 0 && port < 1024)
        return "permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port from 1024 up";
      return std::string("permission denied (") + std::strerror(error_number) + ")";
    case EAFNOSUPPORT:
      return "this host has no such address family (IPv6 disabled?)";
    default:
      return std::strerror(error_number);
  }
}

std::optional<std::string> bind_failure(std::string_view transport, const std::string& host, uint16_t port) {
  bool tcp = transport == "tcp";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found); rc != 0 || !found)
    return "'" + host + "' is not an IP address and does not resolve (" + gai_strerror(rc) + ")";
  std::unique_ptr<addrinfo, AddrInfoDeleter> addresses(found);
  int error_number = 0;
  for (addrinfo* a = found; a; a = a->ai_next) {
    Fd s(socket(a->ai_family, a->ai_socktype, a->ai_protocol));
    if (s.fd < 0) {
      error_number = errno;
      continue;
    }
    int one = 1;
    if (tcp) setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // TIME_WAIT is not "in use"
    if (bind(s.fd, a->ai_addr, a->ai_addrlen) == 0 && (!tcp || listen(s.fd, 1) == 0)) return std::nullopt;
    error_number = errno;
  }
  return bind_error_reason(error_number, port);
}

}  // namespace confab::base
