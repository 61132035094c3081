// What the devices' tests share: a SIP loop to run, a private directory, a
// local TCP server, device configs.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "base/temp_dir.h"
#include "service/devices/device.h"
#include "sip/event_loop.h"

namespace confab::service::testing {

using namespace std::chrono_literals;

inline DeviceConfig config(const std::string& id, const std::string& kind, std::map<std::string, std::string> settings) {
  DeviceConfig c;
  c.id = id;
  c.kind = kind;
  c.settings = std::move(settings);
  return c;
}

inline std::string make_error(const DeviceConfig& c) {
  try {
    DeviceFactory::instance().make(c);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Runs the loop until `done()` or `limit` passes.
inline bool run_until(sip::EventLoop& loop, std::function<bool()> done, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < end) loop.run_for(10ms);
  return done();
}

using base::TempDir;

// A listening TCP socket on 127.0.0.1 with a free port, serving one connection per `serve` call on a thread.
struct LocalServer {
  int fd = -1;
  uint16_t port = 0;
  std::thread thread;
  std::string received;
  LocalServer() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd, 4);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  // Accepts one connection, reads until `request_done(received)`, then sends `reply` (or holds it open for `hold`).
  void serve(std::function<bool(const std::string&)> request_done, std::string reply, std::chrono::milliseconds hold = 0ms) {
    thread = std::thread([this, request_done, reply, hold] {
      int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      while (!request_done(received)) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        received.append(buf, n);
      }
      if (hold.count()) std::this_thread::sleep_for(hold);
      ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
      ::close(c);
    });
  }
  ~LocalServer() {
    if (thread.joinable()) thread.join();
    ::close(fd);
  }
};

inline bool http_request_complete(const std::string& r) {
  auto end = r.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  auto cl = r.find("Content-Length: ");
  size_t length = cl == std::string::npos || cl > end ? 0 : std::stoul(r.substr(cl + 16));
  return r.size() >= end + 4 + length;
}

}  // namespace confab::service::testing
