#include "media/rtp.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace confab::media;

namespace {

RtpHeader header(uint16_t sequence, uint32_t timestamp, uint32_t ssrc = 0x1234) {
  RtpHeader h;
  h.payload_type = 0;
  h.sequence = sequence;
  h.timestamp = timestamp;
  h.ssrc = ssrc;
  return h;
}

}  // namespace

TEST(Rtp, WriteThenParse) {
  RtpHeader h;
  h.marker = true;
  h.payload_type = 96;
  h.sequence = 65535;
  h.timestamp = 0xdeadbeef;
  h.ssrc = 0x01020304;
  const uint8_t payload[] = {1, 2, 3, 4, 5};
  uint8_t packet[64];
  size_t n = write_rtp(h, payload, sizeof payload, packet, sizeof packet);
  ASSERT_EQ(n, 17u);
  EXPECT_EQ(packet[0], 0x80);
  EXPECT_EQ(packet[1], 0x80 | 96);

  auto parsed = parse_rtp(packet, n);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->header.marker);
  EXPECT_EQ(parsed->header.payload_type, 96);
  EXPECT_EQ(parsed->header.sequence, 65535);
  EXPECT_EQ(parsed->header.timestamp, 0xdeadbeefu);
  EXPECT_EQ(parsed->header.ssrc, 0x01020304u);
  ASSERT_EQ(parsed->payload_size, sizeof payload);
  EXPECT_EQ(parsed->payload, packet + 12);
  EXPECT_EQ(std::vector<uint8_t>(parsed->payload, parsed->payload + 5), std::vector<uint8_t>(payload, payload + 5));

  EXPECT_EQ(write_rtp(h, payload, sizeof payload, packet, 16), 0u);  // one byte short
  EXPECT_EQ(write_rtp(h, nullptr, 0, packet, 12), 12u);
  auto empty = parse_rtp(packet, 12);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->payload_size, 0u);
}

TEST(Rtp, CsrcExtensionAndPadding) {
  std::vector<uint8_t> p = {
      0xb2, 0x08, 0x00, 0x07,  // V=2 P=1 X=1 CC=2, PT 8, seq 7
      0x00, 0x00, 0x01, 0x00,  // timestamp 256
      0xaa, 0xbb, 0xcc, 0xdd,  // SSRC
      0, 0, 0, 1, 0, 0, 0, 2,  // two CSRCs
      0xbe, 0xde, 0x00, 0x01,  // extension: profile word, one 32-bit word
      0x10, 0x20, 0x30, 0x40,  // its data
      9, 8, 7,                 // payload
      0, 0, 3,                 // three bytes of padding
  };
  auto parsed = parse_rtp(p.data(), p.size());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->header.payload_type, 8);
  EXPECT_EQ(parsed->header.sequence, 7);
  EXPECT_EQ(parsed->header.timestamp, 256u);
  EXPECT_EQ(parsed->header.ssrc, 0xaabbccddu);
  ASSERT_EQ(parsed->payload_size, 3u);
  EXPECT_EQ(parsed->payload, p.data() + 28);
  EXPECT_EQ(parsed->payload[0], 9);

  // Padding that claims more than the payload, or zero padding bytes.
  auto bad = p;
  bad.back() = 6;
  auto all_padding = parse_rtp(bad.data(), bad.size());  // the whole payload is padding: allowed
  ASSERT_TRUE(all_padding);
  EXPECT_EQ(all_padding->payload_size, 0u);
  bad.back() = 7;
  EXPECT_FALSE(parse_rtp(bad.data(), bad.size()));
  bad.back() = 0;
  EXPECT_FALSE(parse_rtp(bad.data(), bad.size()));
  // An extension longer than the packet.
  bad = p;
  bad[23] = 5;
  EXPECT_FALSE(parse_rtp(bad.data(), bad.size()));
  // More CSRCs than bytes.
  bad = p;
  bad[0] = 0x8f;
  EXPECT_FALSE(parse_rtp(bad.data(), bad.size()));
}

TEST(Rtp, TruncatedAndGarbageRejected) {
  uint8_t packet[40];
  size_t n = write_rtp(header(1, 2), reinterpret_cast<const uint8_t*>("abcd"), 4, packet, sizeof packet);
  for (size_t size = 0; size < 12; ++size) EXPECT_FALSE(parse_rtp(packet, size)) << size;
  EXPECT_TRUE(parse_rtp(packet, n));
  EXPECT_FALSE(parse_rtp(nullptr, 20));

  packet[0] = 0x40;  // version 1
  EXPECT_FALSE(parse_rtp(packet, n));
  packet[0] = 0x90;  // extension bit without room for the extension header
  EXPECT_FALSE(parse_rtp(packet, 14));

  // Random bytes: whatever parses stays inside the buffer.
  std::mt19937 random(7);
  std::vector<uint8_t> data(300);
  for (int round = 0; round < 20000; ++round) {
    size_t size = random() % data.size();
    for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(random());
    data[0] = static_cast<uint8_t>(0x80 | (data[0] & 0x3f));
    auto parsed = parse_rtp(data.data(), size);
    if (parsed) {
      EXPECT_GE(parsed->payload, data.data() + 12);
      EXPECT_LE(parsed->payload + parsed->payload_size, data.data() + size);
    }
  }
}

TEST(Rtp, RtcpIsTellable) {
  const uint8_t receiver_report[] = {0x80, 201, 0, 1, 0, 0, 0, 1};
  const uint8_t sender_report[] = {0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_TRUE(is_rtcp(receiver_report, sizeof receiver_report));
  EXPECT_TRUE(is_rtcp(sender_report, sizeof sender_report));
  EXPECT_FALSE(is_rtcp(receiver_report, 4));
  uint8_t rtp[20];
  RtpHeader h = header(1, 1);
  h.marker = true;  // PCMU with marker: second byte 0x80, not RTCP
  write_rtp(h, nullptr, 0, rtp, sizeof rtp);
  EXPECT_FALSE(is_rtcp(rtp, 12));
  h.payload_type = 111;
  write_rtp(h, nullptr, 0, rtp, sizeof rtp);
  EXPECT_FALSE(is_rtcp(rtp, 12));
  EXPECT_FALSE(is_rtcp(nullptr, 12));
}

TEST(RtpStats, CountsAcrossSequenceWrapAround) {
  RtpReceiveStats stats;
  uint32_t ts = 0;
  for (uint32_t i = 0; i < 200; ++i, ts += 160) stats.update(header(static_cast<uint16_t>(65500 + i), ts), ts);
  EXPECT_EQ(stats.received(), 200u);
  EXPECT_EQ(stats.lost(), 0);
  EXPECT_EQ(stats.extended_highest_sequence(), 65500u + 199u);
  EXPECT_EQ(stats.jitter(), 0u);  // perfect arrivals
  EXPECT_EQ(stats.ssrc(), 0x1234u);
}

TEST(RtpStats, LossDuplicatesAndReordering) {
  RtpReceiveStats stats;
  auto at = [&](uint16_t seq) { stats.update(header(seq, seq * 160u), seq * 160u); };
  for (uint16_t s : {10, 11, 12, 14, 15, 17, 18}) at(s);  // 13 and 16 missing
  EXPECT_EQ(stats.received(), 7u);
  EXPECT_EQ(stats.lost(), 2);
  at(13);  // late arrival fills the hole
  EXPECT_EQ(stats.lost(), 1);
  EXPECT_EQ(stats.duplicates_or_late(), 1u);
  at(18);  // duplicate
  EXPECT_EQ(stats.duplicates_or_late(), 2u);
  EXPECT_EQ(stats.lost(), 0);  // A.1 counts duplicates as received
  EXPECT_EQ(stats.extended_highest_sequence(), 18u);
}

TEST(RtpStats, BigJumpNeedsConfirmationAndSsrcChangeRestarts) {
  RtpReceiveStats stats;
  for (uint16_t s = 0; s < 10; ++s) stats.update(header(s, s * 160u), s * 160u);
  stats.update(header(30000, 0), 0);  // a stray packet far away: ignored
  EXPECT_EQ(stats.received(), 10u);
  EXPECT_EQ(stats.extended_highest_sequence(), 9u);
  stats.update(header(10, 1600), 1600);
  EXPECT_EQ(stats.received(), 11u);
  stats.update(header(40000, 0), 0);  // the sender restarted: two in a row confirm it
  stats.update(header(40001, 160), 160);
  EXPECT_EQ(stats.received(), 1u);
  EXPECT_EQ(stats.lost(), 0);
  EXPECT_EQ(stats.extended_highest_sequence(), 40001u);

  stats.update(header(5, 0, 0x9999), 0);
  EXPECT_EQ(stats.ssrc(), 0x9999u);
  EXPECT_EQ(stats.received(), 1u);
  EXPECT_EQ(stats.extended_highest_sequence(), 5u);
}

TEST(RtpStats, JitterFollowsArrivalVariation) {
  RtpReceiveStats stats;
  std::mt19937 random(3);
  uint32_t ts = 1000;
  for (uint16_t s = 0; s < 500; ++s, ts += 160) {
    uint32_t arrival = ts + 5000 + random() % 80;  // 0-10 ms of jitter at 8 kHz
    stats.update(header(s, ts), arrival);
  }
  // Mean |D| of uniform 0..79 differences is ~26 units.
  EXPECT_GT(stats.jitter(), 15u);
  EXPECT_LT(stats.jitter(), 40u);

  RtpReceiveStats steady;
  for (uint16_t s = 0; s < 100; ++s) steady.update(header(s, s * 160u + 77), s * 160u + 9999);
  EXPECT_EQ(steady.jitter(), 0u);
}

TEST(TelephoneEvent, ParsesRfc4733Payload) {
  const uint8_t hash_end[] = {11, 0x80 | 10, 0x03, 0x20};
  auto e = parse_telephone_event(hash_end, sizeof hash_end);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, 11);
  EXPECT_EQ(e->digit(), '#');
  EXPECT_TRUE(e->end);
  EXPECT_EQ(e->volume, 10);
  EXPECT_EQ(e->duration, 800);

  const uint8_t five[] = {5, 0x3f, 0, 160};
  e = parse_telephone_event(five, sizeof five);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->digit(), '5');
  EXPECT_FALSE(e->end);
  EXPECT_EQ(e->volume, 63);
  EXPECT_EQ(e->duration, 160);

  EXPECT_FALSE(parse_telephone_event(five, 3));
  EXPECT_FALSE(parse_telephone_event(nullptr, 4));
  TelephoneEvent t;
  t.event = 10;
  EXPECT_EQ(t.digit(), '*');
  t.event = 12;
  EXPECT_EQ(t.digit(), 'A');
  t.event = 15;
  EXPECT_EQ(t.digit(), 'D');
  t.event = 16;
  EXPECT_EQ(t.digit(), '?');
}
