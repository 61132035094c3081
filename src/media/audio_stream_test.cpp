#include "media/audio_stream.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace confab::media;

namespace {

// A stream on loopback whose peer's SDP named `sdp_address`, and a socket playing that peer.
struct StreamAndPeer {
  AudioStream stream{UdpSocket("127.0.0.1", 0), UdpSocket("127.0.0.1", 0)};
  UdpSocket peer{"127.0.0.1", 0};

  explicit StreamAndPeer(const std::string& sdp_address, Latch latch) { stream.set_terms(terms(sdp_address, latch)); }

  static StreamTerms terms(const std::string& address, Latch latch) {
    StreamTerms t;
    t.remote = *Endpoint::from(address, 40000);
    t.latch = latch;
    return t;
  }
  Endpoint peer_address() const { return *Endpoint::from("127.0.0.1", peer.local_port()); }

  // One 20 ms PCMU packet from the peer, taken in by the stream.
  void peer_sends(uint8_t payload_type = 0) {
    RtpHeader h;
    h.payload_type = payload_type;
    h.sequence = seq++;
    h.timestamp = 160u * seq;
    h.ssrc = 7;
    uint8_t payload[160] = {}, packet[200];
    size_t n = write_rtp(h, payload, sizeof payload, packet, sizeof packet);
    ASSERT_TRUE(peer.send_to(packet, n, *Endpoint::from("127.0.0.1", stream.local_port())));
    for (int i = 0; i < 1000; ++i) {
      if (stream.receive(1000 + seq * 20) > 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << "the stream received nothing";
  }

  // Whether the stream's RTP reached the peer's socket within 200 ms.
  bool peer_hears() {
    uint8_t buf[1500];
    Endpoint from;
    for (int i = 0; i < 200; ++i) {
      if (peer.receive(buf, sizeof buf, &from) > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  uint16_t seq = 1;
};

void push_silence(AudioStream& s) {
  int16_t pcm[160] = {};
  s.push(pcm, 8000);
}

}  // namespace

TEST(Endpoint, KnowsPrivateAddresses) {
  for (const char* a : {"10.1.2.3", "172.16.0.1", "172.31.255.1", "192.168.1.1", "100.64.0.1", "100.127.0.1",
                        "169.254.1.1", "fd00::1", "fc12::1", "fe80::1"})
    EXPECT_TRUE(Endpoint::from(a, 1)->is_private()) << a;
  for (const char* a : {"127.0.0.1", "8.8.8.8", "172.32.0.1", "172.15.0.1", "192.169.0.1", "100.128.0.1", "100.63.0.1",
                        "11.0.0.1", "::1", "2001:db8::1", "fec0::1"})
    EXPECT_FALSE(Endpoint::from(a, 1)->is_private()) << a;
}

TEST(AudioStream, LatchesOntoTheSourceOfAPeerWhoseSdpNamesAPrivateAddress) {
  StreamAndPeer s("10.99.0.1", Latch::Private);
  // Nothing goes to the private address while the stream waits for the peer's RTP.
  push_silence(s.stream);
  EXPECT_EQ(s.stream.stats().packets_sent, 0u);
  s.peer_sends();
  EXPECT_FALSE(s.stream.stats().latched) << "one packet is not enough";
  s.peer_sends();
  EXPECT_TRUE(s.stream.stats().latched);
  EXPECT_EQ(s.stream.target(), s.peer_address());
  push_silence(s.stream);
  EXPECT_EQ(s.stream.stats().packets_sent, 1u);
  EXPECT_TRUE(s.peer_hears());
  // A new offer/answer with a new address learns again.
  s.stream.set_terms(StreamAndPeer::terms("192.168.7.7", Latch::Private));
  EXPECT_FALSE(s.stream.stats().latched);
  EXPECT_EQ(s.stream.target(), *Endpoint::from("192.168.7.7", 40000));
  s.peer_sends();
  s.peer_sends();
  EXPECT_EQ(s.stream.target(), s.peer_address());
}

TEST(AudioStream, APacketFromAStrangerBetweenThePeersDoesNotDivertTheStream) {
  StreamAndPeer s("10.99.0.1", Latch::Private);
  UdpSocket stranger("127.0.0.1", 0);
  s.peer_sends();
  std::swap(s.peer, stranger);
  s.peer_sends();  // out of place: restarts the probation with the stranger
  std::swap(s.peer, stranger);
  s.peer_sends();  // the peer again: a new probation, one packet so far
  EXPECT_FALSE(s.stream.stats().latched);
  s.peer_sends();
  EXPECT_TRUE(s.stream.stats().latched);
  EXPECT_EQ(s.stream.target(), s.peer_address());
}

TEST(AudioStream, OnceLatchedDropsRtpFromAnyOtherSourceUntilTheNextOfferAnswer) {
  StreamAndPeer s("10.99.0.1", Latch::Private);
  s.peer_sends();
  s.peer_sends();
  ASSERT_TRUE(s.stream.stats().latched);
  UdpSocket stranger("127.0.0.1", 0);
  std::swap(s.peer, stranger);
  s.peer_sends();  // in sequence, right payload type: still not the peer
  s.peer_sends();
  std::swap(s.peer, stranger);
  EXPECT_EQ(s.stream.stats().stray_packets, 2u);
  EXPECT_EQ(s.stream.stats().packets_received, 2u) << "the stranger's packets reached the jitter buffer";
  EXPECT_EQ(s.stream.target(), s.peer_address());
  s.peer_sends();
  EXPECT_EQ(s.stream.stats().packets_received, 3u);
  // A new offer/answer (the phone moved) learns again, from whoever sends first.
  s.stream.set_terms(StreamAndPeer::terms("10.99.0.2", Latch::Private));
  std::swap(s.peer, stranger);
  s.peer_sends();
  s.peer_sends();
  EXPECT_EQ(s.stream.target(), s.peer_address());
  EXPECT_EQ(s.stream.stats().stray_packets, 2u);
}

TEST(AudioStream, KeepsAPublicSdpAddressAndIgnoresOtherPayloadTypes) {
  StreamAndPeer pub("127.0.0.2", Latch::Private);  // not private: the SDP is believed
  pub.peer_sends();
  EXPECT_FALSE(pub.stream.stats().latched);
  EXPECT_EQ(pub.stream.target(), *Endpoint::from("127.0.0.2", 40000));

  StreamAndPeer off("10.99.0.1", Latch::Off);
  off.peer_sends();
  EXPECT_FALSE(off.stream.stats().latched);
  EXPECT_EQ(off.stream.target(), *Endpoint::from("10.99.0.1", 40000));

  StreamAndPeer always("127.0.0.2", Latch::Always);
  always.peer_sends(96);  // not the negotiated payload type: not the peer's audio, no latching
  always.peer_sends(96);
  EXPECT_FALSE(always.stream.stats().latched);
  always.peer_sends();
  always.peer_sends();
  EXPECT_TRUE(always.stream.stats().latched);
  EXPECT_EQ(always.stream.target(), always.peer_address());
  push_silence(always.stream);
  EXPECT_TRUE(always.peer_hears());
}
