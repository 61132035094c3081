// A trace of two real Sofia-SIP stacks (a transaction layer and a user agent on
// loopback) read back with libpcap: every message, each seen by both stacks,
// with the addresses it went between.
#include "sip/sip_trace.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cstring>
#include <functional>

#include "base/temp_dir.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

using namespace std::chrono_literals;

namespace confab::sip {
namespace {

struct UdpPacket {
  std::string from, to;  // "127.0.0.1:5060"
  std::string payload;
  size_t ip_length = 0;
};

std::vector<UdpPacket> read_udp(const std::string& path) {
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), error);
  EXPECT_TRUE(p) << error;
  std::vector<UdpPacket> out;
  if (!p) return out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ip iph;
    udphdr u;
    std::memcpy(&iph, data, sizeof iph);
    std::memcpy(&u, data + sizeof iph, sizeof u);
    char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
    UdpPacket packet;
    packet.from = std::string(inet_ntop(AF_INET, &iph.ip_src, a, sizeof a)) + ":" + std::to_string(ntohs(u.source));
    packet.to = std::string(inet_ntop(AF_INET, &iph.ip_dst, b, sizeof b)) + ":" + std::to_string(ntohs(u.dest));
    packet.payload.assign(reinterpret_cast<const char*>(data) + sizeof iph + sizeof u, h->caplen - sizeof iph - sizeof u);
    packet.ip_length = ntohs(iph.ip_len);
    out.push_back(packet);
  }
  pcap_close(p);
  return out;
}

struct AnswerEverything : TransactionLayer::Handler {
  TransactionLayer* layer = nullptr;
  void on_request(Message request) override { layer->reply_stateless(request, 200, "Traced"); }
  void on_stray_response(Message) override {}
};

struct Quiet : UserAgent::Handler {
  void on_incoming_call(const std::shared_ptr<Call>&, IncomingRequest invite) override { invite.respond(486, "Busy"); }
};

bool run_until(EventLoop& loop, const std::function<bool()>& done) {
  auto until = std::chrono::steady_clock::now() + 4s;
  while (!done() && std::chrono::steady_clock::now() < until) loop.run_for(5ms);
  return done();
}

TEST(SipTrace, EveryMessageOfEveryStackGoesToTheFileWithItsAddresses) {
  base::TempDir dir;
  std::string path = dir.path + "/sip.pcap";
  const std::string body = "hello, trace";
  {
    SipTrace trace(path);
    struct stat st{};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EventLoop loop;
    AnswerEverything answer;
    TransactionLayerOptions lo;
    lo.listen.push_back(*ListenSpec::parse("udp:127.0.0.1:41950"));
    TransactionLayer layer(loop, lo, answer);
    answer.layer = &layer;
    Quiet quiet;
    UserAgentOptions uo;
    uo.listen.push_back(*ListenSpec::parse("udp:127.0.0.1:41952"));
    UserAgent ua(loop, uo, quiet);
    int status = 0;
    ua.send_request({"MESSAGE", "sip:room@127.0.0.1:41950", "", "", {}, "text/plain", body},
                    [&](int s, std::string_view, const Message&) { status = s; });
    ASSERT_TRUE(run_until(loop, [&] { return status != 0; }));
    EXPECT_EQ(status, 200);
  }  // the stacks, then the trace: everything dumped is written
  auto packets = read_udp(path);
  int requests = 0, responses = 0;
  for (auto& p : packets) {
    if (p.payload.starts_with("MESSAGE sip:room@127.0.0.1:41950 SIP/2.0\r\n")) {
      ++requests;
      EXPECT_EQ(p.from, "127.0.0.1:41952");
      EXPECT_EQ(p.to, "127.0.0.1:41950");
      // Whole, also the user agent's copy, which Sofia's dump cut after the headers
      // (the message log completes it).
      EXPECT_EQ(p.payload.size() + 28, p.ip_length);
      EXPECT_TRUE(p.payload.ends_with("\r\n\r\n" + body)) << p.payload;
    } else if (p.payload.starts_with("SIP/2.0 200 Traced\r\n")) {
      ++responses;
      EXPECT_EQ(p.from, "127.0.0.1:41950");
      EXPECT_EQ(p.to, "127.0.0.1:41952");
      EXPECT_EQ(p.payload.size() + 28, p.ip_length);
    }
  }
  EXPECT_EQ(requests, 2) << "sent by the user agent, received by the transaction layer";
  EXPECT_EQ(responses, 2);
  // The layer received the MESSAGE whole: that copy has the body.
  EXPECT_TRUE(std::any_of(packets.begin(), packets.end(), [&](auto& p) { return p.payload.ends_with(body); }));
}

TEST(SipTrace, OneTraceAtATimeAndNoTapWithoutOne) {
  base::TempDir dir;
  std::vector<ListenSpec> listen{*ListenSpec::parse("udp:127.0.0.1:41954")};
  EXPECT_FALSE(SipTrace::tap(listen));
  SipTrace trace(dir.path + "/a.pcap");
  EXPECT_TRUE(SipTrace::tap(listen));
  EXPECT_THROW(SipTrace(dir.path + "/b.pcap"), std::runtime_error);
}

}  // namespace
}  // namespace confab::sip
