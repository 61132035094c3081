#include "media/rtp.h"

#include <cstring>

namespace confab::media {

namespace {

constexpr size_t kFixedHeader = 12;
constexpr uint32_t kSeqMod = 1u << 16;
constexpr uint16_t kMaxDropout = 3000;  // RFC 3550 A.1
constexpr uint16_t kMaxMisorder = 100;

uint16_t read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t read32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 | p[3];
}
void write16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void write32(uint8_t* p, uint32_t v) {
  write16(p, static_cast<uint16_t>(v >> 16));
  write16(p + 2, static_cast<uint16_t>(v));
}

}  // namespace

std::optional<RtpPacket> parse_rtp(const uint8_t* data, size_t size) {
  if (data == nullptr || size < kFixedHeader) return std::nullopt;
  if ((data[0] >> 6) != 2) return std::nullopt;
  bool padding = data[0] & 0x20;
  bool extension = data[0] & 0x10;
  size_t csrc_count = data[0] & 0x0f;

  size_t header = kFixedHeader + 4 * csrc_count;
  if (header > size) return std::nullopt;
  if (extension) {
    // Profile-defined word, then the extension's length in 32-bit words.
    if (header + 4 > size) return std::nullopt;
    size_t words = read16(data + header + 2);
    header += 4 + 4 * words;
    if (header > size) return std::nullopt;
  }
  size_t payload_size = size - header;
  if (padding) {
    // The last octet counts the padding octets, itself included.
    size_t pad = data[size - 1];
    if (pad == 0 || pad > payload_size) return std::nullopt;
    payload_size -= pad;
  }

  RtpPacket packet;
  packet.header.marker = data[1] & 0x80;
  packet.header.payload_type = data[1] & 0x7f;
  packet.header.sequence = read16(data + 2);
  packet.header.timestamp = read32(data + 4);
  packet.header.ssrc = read32(data + 8);
  packet.payload = data + header;
  packet.payload_size = payload_size;
  return packet;
}

bool is_rtcp(const uint8_t* data, size_t size) {
  // RTCP packet types 192-223 occupy the marker bit + payload types 64-95 (RFC 5761 4).
  if (data == nullptr || size < 8 || (data[0] >> 6) != 2) return false;
  return data[1] >= 192 && data[1] <= 223;
}

size_t write_rtp(const RtpHeader& header, const uint8_t* payload, size_t size, uint8_t* out, size_t capacity) {
  if (out == nullptr || capacity < kFixedHeader || size > capacity - kFixedHeader) return 0;
  if (size > 0 && payload == nullptr) return 0;
  out[0] = 0x80;  // version 2, no padding, no extension, no CSRC
  out[1] = static_cast<uint8_t>((header.marker ? 0x80 : 0) | (header.payload_type & 0x7f));
  write16(out + 2, header.sequence);
  write32(out + 4, header.timestamp);
  write32(out + 8, header.ssrc);
  if (size > 0) std::memcpy(out + kFixedHeader, payload, size);
  return kFixedHeader + size;
}

void RtpReceiveStats::update(const RtpHeader& header, uint32_t arrival) {
  uint16_t seq = header.sequence;
  auto restart = [&] {
    base_seq_ = max_seq_ = seq;
    bad_seq_ = kSeqMod + 1;  // no sequence number matches
    cycles_ = 0;
    received_ = late_ = 0;
    last_transit_ = arrival - header.timestamp;
  };

  if (!started_ || header.ssrc != ssrc_) {
    *this = RtpReceiveStats{};
    started_ = true;
    ssrc_ = header.ssrc;
    restart();
  } else {
    uint16_t delta = static_cast<uint16_t>(seq - max_seq_);
    if (delta == 0) {
      ++late_;  // duplicate of the newest packet
    } else if (delta < kMaxDropout) {
      if (seq < max_seq_) cycles_ += kSeqMod;  // wrapped around
      max_seq_ = seq;
    } else if (delta <= kSeqMod - kMaxMisorder) {
      // A big jump: the sender may have restarted. Believe it only when the
      // next packet continues from here.
      if (seq != bad_seq_) {
        bad_seq_ = (seq + 1u) & (kSeqMod - 1);
        return;
      }
      restart();
    } else {
      ++late_;  // reordered or duplicated within MAX_MISORDER
    }
  }
  ++received_;

  // RFC 3550 A.8: interarrival jitter, kept scaled by 16.
  uint32_t transit = arrival - header.timestamp;
  int64_t d = static_cast<int32_t>(transit - last_transit_);
  last_transit_ = transit;
  if (d < 0) d = -d;
  int64_t jitter = static_cast<int64_t>(jitter_) + d - ((static_cast<int64_t>(jitter_) + 8) >> 4);
  jitter_ = static_cast<uint32_t>(jitter < 0 ? 0 : jitter > UINT32_MAX ? UINT32_MAX : jitter);
}

int64_t RtpReceiveStats::lost() const {
  if (!started_) return 0;
  int64_t expected = static_cast<int64_t>(extended_highest_sequence()) - base_seq_ + 1;
  return expected - static_cast<int64_t>(received_);
}

char TelephoneEvent::digit() const {
  if (event <= 9) return static_cast<char>('0' + event);
  if (event == 10) return '*';
  if (event == 11) return '#';
  if (event <= 15) return static_cast<char>('A' + (event - 12));
  return '?';
}

std::optional<TelephoneEvent> parse_telephone_event(const uint8_t* payload, size_t size) {
  // event (8), E (1), R (1), volume (6), duration (16). Only the first event of a
  // payload counts; further blocks are redundancy (RFC 4733 2.5.1.5).
  if (payload == nullptr || size < 4) return std::nullopt;
  TelephoneEvent e;
  e.event = payload[0];
  e.end = payload[1] & 0x80;
  e.volume = payload[1] & 0x3f;
  e.duration = read16(payload + 2);
  return e;
}

}  // namespace confab::media
