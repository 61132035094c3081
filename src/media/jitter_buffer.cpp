#include "media/jitter_buffer.h"

#include <speex/speex_jitter.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "media/audio.h"
#include "media/rtp.h"

namespace confab::media {

namespace {

constexpr int kIdleAfterMs = 200;       // no packet for this long: the sender stopped
constexpr int kPrefillTicks = 1;        // pulls answered Idle after the first packet
constexpr int kMaxSpanFrames = 6;       // 120 ms, the longest ptime a decoder takes
constexpr int kResetAfterJumpSeconds = 4;

}  // namespace

JitterBuffer::JitterBuffer(int rtp_clock)
    : rtp_clock_(rtp_clock), step_(static_cast<uint32_t>(frame_samples(rtp_clock))) {
  if (rtp_clock <= 0 || step_ == 0) throw std::invalid_argument("JitterBuffer: bad RTP clock rate");
  jb_ = jitter_buffer_init(static_cast<int>(step_));
  if (!jb_) throw std::runtime_error("jitter_buffer_init failed");
  // Keep one frame of margin over the delay speex computes from the arrival
  // times, so packets arriving right on time are not counted as late.
  spx_int32_t margin = static_cast<spx_int32_t>(step_);
  jitter_buffer_ctl(jb_, JITTER_BUFFER_SET_MARGIN, &margin);
}

JitterBuffer::~JitterBuffer() { jitter_buffer_destroy(jb_); }

void JitterBuffer::reset() {
  jitter_buffer_reset(jb_);
  started_ = playing_ = false;
  idle_ticks_ = prefill_ticks_ = 0;
  oldest_ = newest_end_ = 0;
  recent_count_ = 0;
}

bool JitterBuffer::seen_recently(uint32_t timestamp) const {
  size_t n = std::min(recent_count_, recent_.size());
  return std::find(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(n), timestamp) !=
         recent_.begin() + static_cast<std::ptrdiff_t>(n);
}

void JitterBuffer::put(uint32_t timestamp, uint32_t span, const uint8_t* payload, size_t size) {
  if (span == 0) span = step_;
  if (payload == nullptr || size == 0 || size > kMaxRtpPacket || span > step_ * kMaxSpanFrames) return;

  if (started_) {
    // A jump of seconds is a new stream, not jitter: start over.
    auto jump = static_cast<int64_t>(static_cast<int32_t>(timestamp - newest_end_));
    if (std::abs(jump) > static_cast<int64_t>(rtp_clock_) * kResetAfterJumpSeconds)
      reset();
    else if (seen_recently(timestamp))
      return;  // duplicate
  }
  if (!started_) {
    started_ = true;
    prefill_ticks_ = kPrefillTicks;
    oldest_ = timestamp;
    newest_end_ = timestamp + span;
  }
  if (static_cast<int32_t>(timestamp + span - newest_end_) > 0) newest_end_ = timestamp + span;
  if (!playing_ && static_cast<int32_t>(timestamp - oldest_) < 0) oldest_ = timestamp;
  recent_[recent_count_++ % recent_.size()] = timestamp;
  idle_ticks_ = 0;

  JitterBufferPacket packet{};
  packet.data = const_cast<char*>(reinterpret_cast<const char*>(payload));  // speex copies it
  packet.len = static_cast<spx_uint32_t>(size);
  packet.timestamp = timestamp;
  packet.span = span;
  jitter_buffer_put(jb_, &packet);
}

JitterBuffer::Result JitterBuffer::pull(std::vector<uint8_t>& payload) {
  payload.clear();
  if (!started_) return Result::Idle;
  ++idle_ticks_;
  if (prefill_ticks_ > 0) {
    --prefill_ticks_;
    return Result::Idle;
  }
  playing_ = true;

  JitterBufferPacket packet{};
  packet.data = reinterpret_cast<char*>(scratch_.data());  // not `payload`: no zero-fill per pull
  packet.len = static_cast<spx_uint32_t>(scratch_.size());
  spx_int32_t offset = 0;
  int status = jitter_buffer_get(jb_, &packet, static_cast<spx_int32_t>(step_), &offset);
  jitter_buffer_tick(jb_);

  if (status == JITTER_BUFFER_OK) {
    payload.assign(scratch_.data(), scratch_.data() + std::min<size_t>(packet.len, scratch_.size()));
    return Result::Packet;
  }
  // INSERTION: speex grows the buffer by one slot of concealment. MISSING: a gap,
  // unless nothing has arrived for so long that the stream has stopped.
  if (status != JITTER_BUFFER_INSERTION && idle_ticks_ * kFrameMs >= kIdleAfterMs) {
    reset();
    return Result::Idle;
  }
  return Result::Lost;
}

int JitterBuffer::delay_ms() const {
  if (!started_) return 0;
  uint32_t head = playing_ ? static_cast<uint32_t>(jitter_buffer_get_pointer_timestamp(jb_)) : oldest_;
  auto buffered = static_cast<int32_t>(newest_end_ - head);
  if (buffered <= 0) return 0;
  return static_cast<int>(static_cast<int64_t>(buffered) * 1000 / rtp_clock_);
}

}  // namespace confab::media
