// What the benchmark tools share: a UDP socket bound on 127.0.0.1 (exits
// with a message when the port is taken: a benchmark cannot go on without it).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace confab::bench {

// `buffer` > 0: the receive and send buffers, in bytes (forced past the system's limits).
inline int loopback_udp_socket(uint16_t port, int buffer = 0) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::fprintf(stderr, "cannot bind UDP 127.0.0.1:%u\n", port);
    std::exit(1);
  }
  if (buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);
  }
  return fd;
}

}  // namespace confab::bench
