// An adaptive jitter buffer for one RTP audio stream, read once per 20 ms tick.
//
// It is ours, not speexdsp's: under callgrind (mixer, 60 G.711 legs) speexdsp's
// jitter_buffer_put/get scanned all 200 of its packet slots on every call and
// allocated a copy of every packet; with G.711 coding that was ~32% of the
// mixer's time, and the mixer must carry 2000 legs on one core. Here a packet's
// slot is its frame number modulo a small power-of-two ring, so put() and
// pull() are O(1) and payload buffers are reused, never allocated per packet.
//
// Handles reordering, duplicates, late packets (dropped), timestamp jumps and
// wrap-around, packets spanning several frames, a sender that stops (Idle) and
// SSRC changes (the caller calls reset()). The delay adapts to the lateness of
// the packets of the last few seconds, up to 200 ms.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace confab::media {

class JitterBuffer {
 public:
  // rtp_clock: timestamp units per second (8000 for G.711/G.722, 48000 for Opus).
  explicit JitterBuffer(int rtp_clock);
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // Stores a received packet covering `span` timestamp units from `timestamp`
  // (0: one 20 ms frame; more than 120 ms, empty or oversized payloads are dropped).
  void put(uint32_t timestamp, uint32_t span, const uint8_t* payload, size_t size);

  enum class Result {
    Packet,  // `payload` holds the packet for this 20 ms slot
    Lost,    // a packet was expected but is missing: conceal
    Idle,    // nothing received (yet, or for ~200 ms: the sender stopped): silence
  };
  // Takes what is due for the next 20 ms and advances time by one frame. A
  // packet spanning several frames is returned once, for its first frame, and
  // time advances past every frame it covers: the caller plays it all out before
  // pulling again (as AudioStream does), so those frames are never reported Lost.
  Result pull(std::vector<uint8_t>& payload);
  void reset();
  // Current buffering delay in milliseconds.
  int delay_ms() const;

 private:
  static constexpr size_t kSlots = 32;  // frames the ring holds (640 ms); a power of two
  static_assert((kSlots & (kSlots - 1)) == 0);

  struct Slot {
    int64_t frame = 0;   // the frame number of the packet held (meaningful when `used`)
    uint32_t frames = 0; // frames it covers
    bool used = false;
    std::vector<uint8_t> payload;
  };
  // The range of arrival offsets (clock_ - frame at put) seen in one window.
  struct OffsetRange {
    int64_t low = 0, high = 0;
    bool empty = true;
    void add(int64_t offset);
  };

  void start(uint32_t timestamp);
  int64_t position(uint32_t timestamp) const;  // timestamp units from origin_, unwrapped near the head
  Slot* find(int64_t frame);
  void note_offset(int64_t offset);
  void roll_window();
  int64_t target_offset();  // the play offset the recent arrivals call for

  int rtp_clock_;
  uint32_t step_;  // timestamp units per frame
  std::array<Slot, kSlots> ring_;
  bool started_ = false;   // a packet arrived since the last reset
  bool playing_ = false;   // a frame has been played since the start
  int prefill_ticks_ = 0;  // pulls still to answer Idle while the first packets gather
  uint32_t origin_ = 0;    // timestamp of the first packet: frame 0
  // Time in frames since the start: +1 per pull, +N when an N-frame packet is
  // played (the caller does not pull while playing it out).
  int64_t clock_ = 0;
  int64_t head_ = 0;              // the next frame to play; clock_ - head_ is the play offset
  int64_t newest_end_ = 0;        // end of the newest packet, timestamp units from origin_
  int64_t last_stored_clock_ = 0; // clock_ when the latest packet was stored
  int64_t last_drop_clock_ = 0;   // clock_ when audio was last dropped to shrink the delay
  int64_t window_ = 0;            // index of the current offset window
  int waited_ = 0;                // ticks spent waiting for the missing head frame
  OffsetRange current_, previous_;
};

}  // namespace confab::media
