// confab-api-latency: how long from a control message to the INVITE on the
// wire. The tool is the device: it listens for SIP on UDP, times each INVITE
// against the message that caused it, and answers 486 Busy so the call ends.
//
//   confab-api-latency confab  --socket PATH     --device-port 7990 --count 500
//       <Join id=.. ><Use dev="sip:dev@127.0.0.1:7990"/></Join> over the service's Unix socket
//   confab-api-latency baresip --ctrl-port 17300 --device-port 7990 --count 500
//       {"command":"dial"} over baresip's ctrl_tcp (the real peer's control interface)
//
// Prints "p50_us=.. p99_us=.. max_us=.. count=.. timeouts=..".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "loopback_udp.h"
#include "api/api_client.h"

namespace {

using Clock = std::chrono::steady_clock;

// The header lines a response copies from the request (RFC 3261 8.2.6.2).
std::string busy_response(const std::string& request) {
  std::istringstream in(request);
  std::string line, out = "SIP/2.0 486 Busy Here\r\n";
  while (std::getline(in, line) && line != "\r" && !line.empty()) {
    if (line.back() == '\r') line.pop_back();
    std::string lower = line.substr(0, line.find(':'));
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == "via" || lower == "v" || lower == "from" || lower == "f" || lower == "call-id" || lower == "i" ||
        lower == "cseq")
      out += line + "\r\n";
    else if (lower == "to" || lower == "t")
      out += line + ";tag=bench\r\n";
  }
  return out + "Content-Length: 0\r\n\r\n";
}

// Waits for the next INVITE (answering it 486) until `deadline`; true if one came.
bool await_invite(int fd, Clock::time_point deadline) {
  char buf[8192];
  while (true) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    std::string msg(buf, static_cast<size_t>(n));
    if (msg.rfind("INVITE ", 0) != 0) continue;  // ACKs of earlier calls
    std::string resp = busy_response(msg);
    ::sendto(fd, resp.data(), resp.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    return true;
  }
}

void drain(int fd) {
  char buf[8192];
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"control message -> INVITE on the wire latency"};
  std::string mode, socket_path;
  uint16_t device_port = 7990, ctrl_port = 0;
  int count = 500;
  app.add_option("mode", mode, "confab | baresip")->required();
  app.add_option("--socket", socket_path, "the service's API socket (confab)");
  app.add_option("--ctrl-port", ctrl_port, "baresip's ctrl_tcp port (baresip)");
  app.add_option("--device-port", device_port, "UDP port the tool listens on as the device");
  app.add_option("--count", count, "requests");
  CLI11_PARSE(app, argc, argv);

  int fd = confab::bench::loopback_udp_socket(device_port);
  std::string device = "sip:dev@127.0.0.1:" + std::to_string(device_port);
  std::vector<double> us;
  int timeouts = 0;

  if (mode == "confab") {
    auto client = confab::api::ApiClient::unix_socket(socket_path);
    for (int i = 0; i < count; ++i) {
      confab::api::ApiMessage join("Join");
      join.set("id", "sip:target@127.0.0.1:9").set("tag", std::to_string(i));
      join.add(confab::api::ApiMessage("Use").set("dev", device));
      auto t0 = Clock::now();
      client.send(join);
      if (await_invite(fd, t0 + std::chrono::seconds(2)))
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      else
        ++timeouts;
      // The call fails with our 486; wait for its result before the next one.
      while (auto m = client.next(std::chrono::seconds(2)))
        if (m->name == "Result" && m->attr("tag") == std::to_string(i)) break;
      drain(fd);
    }
  } else if (mode == "baresip") {
    int tcp = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(ctrl_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect ctrl_tcp");
      return 1;
    }
    int one = 1;
    ::setsockopt(tcp, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char sink[65536];
    for (int i = 0; i < count; ++i) {
      std::string json = R"({"command":"dial","params":")" + device + R"(","token":"t)" + std::to_string(i) + "\"}";
      std::string frame = std::to_string(json.size()) + ":" + json + ",";
      auto t0 = Clock::now();
      if (::send(tcp, frame.data(), frame.size(), MSG_NOSIGNAL) < 0) return 1;
      if (await_invite(fd, t0 + std::chrono::seconds(2)))
        us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      else
        ++timeouts;
      ::usleep(20000);  // let baresip take the 486 and end the call before the next dial
      while (::recv(tcp, sink, sizeof sink, MSG_DONTWAIT) > 0) {
      }
      drain(fd);
    }
  } else {
    std::fprintf(stderr, "mode must be confab or baresip\n");
    return 2;
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us.empty() ? 0.0 : us[std::min(us.size() - 1, static_cast<size_t>(p * us.size()))]; };
  std::printf("p50_us=%.0f p99_us=%.0f max_us=%.0f count=%zu timeouts=%d\n", pct(0.50), pct(0.99),
              us.empty() ? 0.0 : us.back(), us.size(), timeouts);
  return timeouts > count / 10 ? 1 : 0;
}
