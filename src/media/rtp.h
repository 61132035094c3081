// RTP (RFC 3550) packet parsing and writing, receive statistics, and
// RFC 4733 telephone-events. Pure functions over bytes: fuzzed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace confab::media {

constexpr size_t kMaxRtpPacket = 1500;

struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
};

struct RtpPacket {
  RtpHeader header;
  const uint8_t* payload = nullptr;  // points into the parsed buffer
  size_t payload_size = 0;
};

// Parses an RTP packet: version 2, CSRC list, header extension and padding
// handled. nullopt for anything malformed (never reads past `size`).
std::optional<RtpPacket> parse_rtp(const uint8_t* data, size_t size);

// True if the datagram is RTCP rather than RTP (RFC 5761 section 4: payload
// types 64-95 in the second byte).
bool is_rtcp(const uint8_t* data, size_t size);

// Writes a 12-byte header and the payload into `out`. Returns bytes written,
// 0 if `capacity` is too small.
size_t write_rtp(const RtpHeader& header, const uint8_t* payload, size_t size, uint8_t* out, size_t capacity);

// RFC 3550 appendix A.1/A.8: sequence tracking across wrap-around, packets
// expected/lost, interarrival jitter. One per received stream; reset on SSRC change.
class RtpReceiveStats {
 public:
  // `arrival` in RTP timestamp units of the stream's clock.
  void update(const RtpHeader& header, uint32_t arrival);
  uint32_t ssrc() const { return ssrc_; }
  uint64_t received() const { return received_; }
  int64_t lost() const;          // expected - received (may be negative with duplicates)
  uint32_t jitter() const { return jitter_ >> 4; }  // in timestamp units
  uint32_t extended_highest_sequence() const { return cycles_ + max_seq_; }
  uint64_t duplicates_or_late() const { return late_; }

 private:
  bool started_ = false;
  uint32_t ssrc_ = 0;
  uint16_t base_seq_ = 0, max_seq_ = 0;
  uint32_t bad_seq_ = 0;  // RFC 3550 A.1: a big jump is accepted when the next packet follows it
  uint32_t cycles_ = 0;
  uint64_t received_ = 0, late_ = 0;
  uint32_t last_transit_ = 0, jitter_ = 0;
};

// RFC 4733 telephone-event payload.
struct TelephoneEvent {
  uint8_t event = 0;     // 0-9 digits, 10 '*', 11 '#', 12-15 A-D
  bool end = false;
  uint8_t volume = 0;
  uint16_t duration = 0;  // timestamp units
  char digit() const;    // '0'..'9', '*', '#', 'A'..'D', '?' otherwise
};
std::optional<TelephoneEvent> parse_telephone_event(const uint8_t* payload, size_t size);

}  // namespace confab::media
