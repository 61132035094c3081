#include "sip/event_loop.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>

#include "sip/transaction_layer.h"

using namespace confab::sip;
using namespace std::chrono_literals;

TEST(EventLoop, RunsPostedWorkFromOtherThreads) {
  EventLoop loop;
  std::atomic<int> n{0};
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) loop.post([&] { ++n; });
    loop.post([&] { loop.stop(); });
  });
  loop.run();
  t.join();
  EXPECT_EQ(n.load(), 100);
}

TEST(EventLoop, TimersFireOnceAndPeriodically) {
  EventLoop loop;
  Timer once(loop), every(loop);
  int a = 0, b = 0;
  once.once(10ms, [&] { ++a; });
  every.every(10ms, [&] { ++b; });
  loop.run_for(120ms);
  EXPECT_EQ(a, 1);
  EXPECT_GE(b, 5);
  every.cancel();
  int seen = b;
  loop.run_for(50ms);
  EXPECT_EQ(b, seen);
}

namespace {
struct Counter : TransactionLayer::Handler {
  int requests = 0;
  void on_request(Message) override { ++requests; }
  void on_stray_response(Message) override {}
};
}  // namespace

TEST(EventLoop, RunForDeliversNetworkInput) {
  EventLoop loop;
  Counter counter;
  TransactionLayerOptions opts;
  opts.listen.push_back(*ListenSpec::parse("udp:127.0.0.1:15961"));
  TransactionLayer layer(loop, opts, counter);
  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(15961);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string req =
      "OPTIONS sip:x@127.0.0.1:15961 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:x@127.0.0.1>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  ::sendto(s, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  for (int i = 0; i < 50 && counter.requests == 0; ++i) loop.run_for(1ms);
  EXPECT_EQ(counter.requests, 1);
  EXPECT_EQ(layer.stats().received_requests, 1u);
  ::close(s);
}
