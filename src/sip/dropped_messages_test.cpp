#include "sip/dropped_messages.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "sip/event_loop.h"
#include "sip/transaction_layer.h"

namespace confab::sip {
namespace {

TEST(DroppedMessages, ReasonsOfNtaLogLines) {
  EXPECT_EQ(drop_reason_of_nta_line("nta_agent: received garbage from udp/127.0.0.1:5060/sip"), kDropUnparsable);
  EXPECT_EQ(drop_reason_of_nta_line("nta: OPTIONS (1) has invalid Via"), kDropViaTransport);
  EXPECT_EQ(drop_reason_of_nta_line("nta: INVITE has bad Via header"), kDropNoVia);
  EXPECT_FALSE(drop_reason_of_nta_line("nta: INVITE has bad Contact header"));
  EXPECT_FALSE(drop_reason_of_nta_line("nta: INVITE (8) to message callback"));
  EXPECT_FALSE(drop_reason_of_nta_line(""));
}

struct Ignore : TransactionLayer::Handler {
  int requests = 0;
  void on_request(Message) override { ++requests; }
  void on_stray_response(Message) override {}
};

uint64_t count_of(std::string_view reason) {
  auto all = dropped_messages();
  auto it = all.find(reason);
  return it == all.end() ? 0 : it->second;
}

// What RFC 4475 section 3.1.2.8 sends ("lwsruri": a space inside the Request-URI)
// a request whose only Via is broken, one whose Via names TCP but came over UDP:
// nta answers none of them; each is counted.
TEST(DroppedMessages, AStackCountsWhatItCannotAnswer) {
  EventLoop loop;
  Ignore handler;
  TransactionLayerOptions o;
  o.listen.push_back(*ListenSpec::parse("udp:127.0.0.1:40196"));
  TransactionLayer layer(loop, o, handler);
  uint64_t unparsable = count_of(kDropUnparsable), no_via = count_of(kDropNoVia),
           transport = count_of(kDropViaTransport);

  int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(40196);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto send = [&](const std::string& m) {
    ASSERT_EQ(::sendto(s, m.data(), m.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(m.size()));
  };
  const std::string rest =
      "To: <sip:user@example.com>\r\nFrom: <sip:caller@example.net>;tag=1\r\nCall-ID: drop-test\r\n"
      "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  send("OPTIONS sip:user@example.com; lr SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKa\r\n" + rest);
  send("OPTIONS sip:user@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;;,;,,\r\n" + rest);
  send("OPTIONS sip:user@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKb\r\n" + rest);
  for (int i = 0; i < 40 && (count_of(kDropUnparsable) == unparsable || count_of(kDropNoVia) == no_via ||
                             count_of(kDropViaTransport) == transport);
       ++i)
    loop.run_for(std::chrono::milliseconds(25));
  ::close(s);
  EXPECT_EQ(count_of(kDropUnparsable), unparsable + 1);
  EXPECT_EQ(count_of(kDropNoVia), no_via + 1);
  EXPECT_EQ(count_of(kDropViaTransport), transport + 1);  // came over UDP
  EXPECT_EQ(handler.requests, 0);
}

}  // namespace
}  // namespace confab::sip
