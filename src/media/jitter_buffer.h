// An adaptive jitter buffer for one RTP audio stream (speexdsp's), read once
// per 20 ms tick. Handles reordering, duplicates, late packets, timestamp jumps
// and SSRC changes (the caller calls reset()).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/rtp.h"

struct JitterBuffer_;

namespace confab::media {

class JitterBuffer {
 public:
  // rtp_clock: timestamp units per second (8000 for G.711/G.722, 48000 for Opus).
  explicit JitterBuffer(int rtp_clock);
  ~JitterBuffer();
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
  // Takes what is due for the next 20 ms and advances time by one frame.
  Result pull(std::vector<uint8_t>& payload);
  void reset();
  // Current buffering delay in milliseconds.
  int delay_ms() const;

 private:
  bool seen_recently(uint32_t timestamp) const;

  JitterBuffer_* jb_ = nullptr;
  int rtp_clock_;
  uint32_t step_;
  bool started_ = false;   // a packet arrived since the last reset
  bool playing_ = false;   // the initial buffering is over, speex is being read
  int idle_ticks_ = 0;     // pulls since the last packet arrived
  int prefill_ticks_ = 0;  // pulls still to answer Idle while the first packets gather
  uint32_t oldest_ = 0;      // first timestamp since the reset
  uint32_t newest_end_ = 0;  // end of the newest packet (timestamp + span)
  std::array<uint32_t, 32> recent_{};  // timestamps of the latest packets, to drop duplicates
  size_t recent_count_ = 0;
  std::array<uint8_t, kMaxRtpPacket> scratch_{};  // speex copies a packet out here
};

}  // namespace confab::media
