// libFuzzer: RTP/RTCP/telephone-event parsing, every decoder on the payload, and a
// jitter buffer driven by fuzzed timestamps, spans and put/pull order.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "media/audio.h"
#include "media/codec.h"
#include "media/jitter_buffer.h"
#include "media/rtp.h"

using namespace confab::media;

namespace {

// Reads fixed-size fields off the input; zeros once it runs out.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  uint32_t u32() { return uint32_t{byte()} << 24 | uint32_t{byte()} << 16 | uint32_t{byte()} << 8 | byte(); }
  // Up to `max` bytes of the rest, as a pointer into the input.
  std::pair<const uint8_t*, size_t> bytes(size_t max) {
    size_t n = std::min(max, size_ - std::min(at_, size_));
    const uint8_t* p = data_ + std::min(at_, size_);
    at_ += n;
    return {p, n};
  }

 private:
  const uint8_t* data_;
  size_t size_, at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)is_rtcp(data, size);
  auto packet = parse_rtp(data, size);
  const uint8_t* payload = data;
  size_t payload_size = size;
  if (packet) {
    payload = packet->payload;
    payload_size = packet->payload_size;
    RtpReceiveStats stats;
    stats.update(packet->header, 0);
    RtpHeader next = packet->header;
    next.sequence = static_cast<uint16_t>(next.sequence + 40000);
    stats.update(next, packet->header.timestamp);
    (void)stats.lost();
    (void)stats.jitter();
  }
  if (auto event = parse_telephone_event(payload, payload_size)) (void)event->digit();
  if (size == 0) return 0;

  static constexpr std::array kCodecs{Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::Opus};
  Codec codec = kCodecs[data[0] % kCodecs.size()];
  auto decoder = make_decoder(codec);
  std::vector<int16_t> pcm(kMaxFrameSamples * 6);
  size_t capacity = data[0] & 0x80 ? pcm.size() : pcm.size() / 8;  // sometimes too small
  size_t decoded = decoder->decode(payload, payload_size, pcm.data(), capacity);
  if (decoded > capacity) __builtin_trap();
  decoder->conceal(pcm.data(), size % pcm.size());

  // Jitter buffer: commands of [op][timestamp or delta][span][length][payload].
  JitterBuffer buffer(describe(codec).rtp_clock);
  const uint32_t frame = static_cast<uint32_t>(describe(codec).rtp_clock) / 50;
  uint32_t timestamp = packet ? packet->header.timestamp : 0;
  buffer.put(timestamp, 0, payload, payload_size);  // the packet itself first
  Input in(data + 1, size - 1);
  std::vector<uint8_t> out;
  while (!in.empty()) {
    uint8_t op = in.byte();
    if (op & 1) {
      // Usually a step of whole frames from the last packet (reordering, duplicates,
      // loss, lateness); sometimes any jump, or a step off the frame grid.
      if (op & 4) {
        timestamp = in.u32();
      } else {
        auto delta = static_cast<int8_t>(in.byte());
        timestamp += static_cast<uint32_t>(delta) * (op & 8 ? 1 : frame);
      }
      // Whole frames (0 = default) or, rarely, odd lengths.
      uint8_t length = in.byte();
      uint32_t span = length < 8 ? length * 7u : (length % 8u) * frame;
      auto [bytes, n] = in.bytes(in.byte());
      buffer.put(timestamp, span, bytes, n);
    }
    if (op & 2) {
      for (int i = 0; i <= (op >> 4); ++i) {
        if (buffer.pull(out) == JitterBuffer::Result::Packet && !out.empty()) {
          decoder->decode(out.data(), out.size(), pcm.data(), pcm.size());
        } else {
          decoder->conceal(pcm.data(), frame_samples(decoder->pcm_rate()));
        }
      }
    }
    if (op == 0xff) buffer.reset();
    (void)buffer.delay_ms();
  }
  return 0;
}
