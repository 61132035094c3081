// For libFuzzer targets that drive a live SIP part (proxy, conference server,
// client service): each input goes to the part as one UDP datagram over
// loopback, then the part's loop runs until it took it (or a short deadline).
// Header-only, used by the fuzz_* programs alone.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>

#include "sip/event_loop.h"

namespace confab::sip {

class FuzzDatagrams {
 public:
  explicit FuzzDatagrams(uint16_t port) : sock_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    to_.sin_family = AF_INET;
    to_.sin_port = htons(port);
    to_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  ~FuzzDatagrams() { ::close(sock_); }
  FuzzDatagrams(const FuzzDatagrams&) = delete;
  FuzzDatagrams& operator=(const FuzzDatagrams&) = delete;

  // Sends `data` and runs `loop` in 1 ms steps until `taken` says the part
  // took it, at most `steps` times (also what follows it: answers, timers).
  void send(EventLoop& loop, const uint8_t* data, size_t size, const std::function<bool()>& taken, int steps = 20) {
    ::sendto(sock_, data, size, 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_);
    for (int i = 0; i < steps; ++i) {
      loop.run_for(std::chrono::milliseconds(1));
      if (taken()) break;
    }
  }

 private:
  int sock_;
  sockaddr_in to_{};
};

// The fuzz target's Harness (a loop, the part, FuzzDatagrams), made at the
// first input and torn down at exit, so that LeakSanitizer sees what the part
// really leaked rather than what it still holds.
template <typename Harness>
Harness& fuzz_harness() {
  static Harness* harness = nullptr;
  if (!harness) {
    harness = new Harness();
    std::atexit([] {
      delete harness;
      harness = nullptr;
    });
  }
  return *harness;
}

}  // namespace confab::sip
