#include "media/jitter_buffer.h"

#include <algorithm>
#include <stdexcept>

#include "media/audio.h"
#include "media/rtp.h"

// How it works. Time is counted in frames (20 ms). Every packet gets a frame
// number, (timestamp - first timestamp) / frame length, and waits in the ring
// slot `frame mod kSlots`. The head is the next frame to play; clock_ counts
// the pulls. A packet of frame f put at clock c has the arrival offset c - f,
// and it is in time if it arrives no later than the pull that plays it, i.e. if
// its offset is at most the play offset P = clock_ - head_. The buffer tracks
// the offsets of the last 2-4 s and aims P at the highest of them plus one
// frame of safety (never more than 200 ms above the lowest): it grows when a
// frame is missing at the head (waits a tick or two for it instead of moving
// on, which is concealment the caller does anyway) and shrinks by skipping a
// missing frame, or now and then dropping a frame, once the late arrivals have
// left the window.

namespace confab::media {

namespace {

constexpr int64_t kIdleFrames = 200 / kFrameMs;      // no packet for 200 ms: the sender stopped
constexpr int kPrefillTicks = 1;                     // pulls answered Idle after the first packet
constexpr uint32_t kMaxSpanFrames = 6;               // 120 ms, the longest ptime a decoder takes
constexpr int64_t kResetAfterJumpSeconds = 4;        // a jump this long is a new stream, not jitter
constexpr int64_t kMaxDelayFrames = 200 / kFrameMs;  // the delay never adapts beyond 200 ms
constexpr int64_t kSafetyFrames = 1;                 // margin over the latest arrival seen
constexpr int64_t kWindowFrames = 2000 / kFrameMs;   // offsets are remembered for 2-4 s
constexpr int64_t kDropEveryFrames = 200 / kFrameMs; // shrinking drops at most one frame per 200 ms
// Waiting for a missing frame grows the delay by at most 40 ms at a time: the
// frame may be lost rather than late, and a long wait is a long gap.
constexpr int kMaxWaitTicks = 2;

// Rounds towards minus infinity (frames before the origin are negative).
int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

}  // namespace

void JitterBuffer::OffsetRange::add(int64_t offset) {
  low = empty ? offset : std::min(low, offset);
  high = empty ? offset : std::max(high, offset);
  empty = false;
}

JitterBuffer::JitterBuffer(int rtp_clock)
    : rtp_clock_(rtp_clock), step_(rtp_clock > 0 ? static_cast<uint32_t>(frame_samples(rtp_clock)) : 0) {
  if (step_ == 0) throw std::invalid_argument("JitterBuffer: bad RTP clock rate");
}

void JitterBuffer::reset() {
  for (auto& slot : ring_) slot.used = false;  // keeps the payload buffers for reuse
  started_ = playing_ = false;
  prefill_ticks_ = 0;
}

void JitterBuffer::start(uint32_t timestamp) {
  started_ = true;
  playing_ = false;
  prefill_ticks_ = kPrefillTicks;
  origin_ = timestamp;
  clock_ = head_ = newest_end_ = last_stored_clock_ = last_drop_clock_ = 0;
  window_ = 0;
  waited_ = 0;
  current_ = previous_ = OffsetRange{};
}

int64_t JitterBuffer::position(uint32_t timestamp) const {
  // Relative to the head's position, modulo 2^32: timestamps wrap around.
  int64_t head_position = head_ * step_;
  auto from_head = static_cast<int32_t>(timestamp - origin_ - static_cast<uint32_t>(head_position));
  return head_position + from_head;
}

JitterBuffer::Slot* JitterBuffer::find(int64_t frame) {
  Slot& slot = ring_[static_cast<uint64_t>(frame) & (kSlots - 1)];
  return slot.used && slot.frame == frame ? &slot : nullptr;
}

void JitterBuffer::roll_window() {
  int64_t window = floor_div(clock_, kWindowFrames);
  if (window == window_) return;
  previous_ = window == window_ + 1 ? current_ : OffsetRange{};
  current_ = OffsetRange{};
  window_ = window;
}

void JitterBuffer::note_offset(int64_t offset) {
  roll_window();
  current_.add(offset);
}

int64_t JitterBuffer::target_offset() {
  roll_window();
  if (current_.empty && previous_.empty) return clock_ - head_;  // nothing to go by: stay
  int64_t high = current_.empty ? previous_.high : previous_.empty ? current_.high : std::max(current_.high, previous_.high);
  int64_t low = current_.empty ? previous_.low : previous_.empty ? current_.low : std::min(current_.low, previous_.low);
  return std::min(high + kSafetyFrames, low + kMaxDelayFrames);
}

void JitterBuffer::put(uint32_t timestamp, uint32_t span, const uint8_t* payload, size_t size) {
  if (span == 0) span = step_;
  if (payload == nullptr || size == 0 || size > kMaxRtpPacket || span > step_ * kMaxSpanFrames) return;

  if (started_) {
    // A jump of seconds, or beyond what the ring holds, is a new stream: start over.
    int64_t position_now = position(timestamp);
    int64_t jump = position_now - newest_end_;
    int64_t limit = static_cast<int64_t>(rtp_clock_) * kResetAfterJumpSeconds;
    if (jump > limit || jump < -limit || floor_div(position_now, step_) - head_ >= static_cast<int64_t>(kSlots))
      reset();
  }
  if (!started_) start(timestamp);

  const int64_t pos = position(timestamp);
  const int64_t frame = floor_div(pos, step_);
  // Before anything plays, a packet overtaken by the first one moves the start back.
  if (!playing_ && frame < head_ && head_ - frame <= kMaxDelayFrames) head_ = frame;

  Slot& slot = ring_[static_cast<uint64_t>(frame) & (kSlots - 1)];
  if (slot.used && slot.frame == frame) return;  // a duplicate, waiting or already played
  const int64_t offset = clock_ - frame;
  if (frame < head_) {
    // Late: its turn has passed. Unless it is hopelessly late, wait longer for the next ones.
    if (head_ - frame <= kMaxDelayFrames) note_offset(offset);
    return;
  }
  slot.frame = frame;
  slot.frames = std::clamp((span + step_ - 1) / step_, 1u, kMaxSpanFrames);
  slot.used = true;
  slot.payload.assign(payload, payload + size);
  note_offset(offset);
  last_stored_clock_ = clock_;
  newest_end_ = std::max(newest_end_, pos + static_cast<int64_t>(span));
}

JitterBuffer::Result JitterBuffer::pull(std::vector<uint8_t>& payload) {
  payload.clear();
  if (!started_) return Result::Idle;
  if (prefill_ticks_ > 0) {
    --prefill_ticks_;
    ++clock_;
    return Result::Idle;
  }
  playing_ = true;

  const int64_t target = target_offset();
  Slot* slot = find(head_);
  if (clock_ - head_ > target) {
    // Too much delay for the recent arrivals: skip a missing frame rather than
    // conceal it, or now and then drop one (only when the next one is here).
    if (!slot) {
      slot = find(++head_);
      waited_ = 0;
    } else if (clock_ - last_drop_clock_ >= kDropEveryFrames && clock_ - head_ - slot->frames >= target &&
               find(head_ + slot->frames)) {
      head_ += slot->frames;
      last_drop_clock_ = clock_;
      slot = find(head_);
    }
  }

  if (slot) {
    waited_ = 0;
    payload.swap(slot->payload);  // no copy: the slot keeps the caller's buffer for its next packet
    head_ += slot->frames;
    clock_ += slot->frames;
    return Result::Packet;
  }
  const bool grow = clock_ - head_ < target && waited_ < kMaxWaitTicks;
  ++clock_;
  if (clock_ - last_stored_clock_ >= kIdleFrames) {
    reset();
    return Result::Idle;
  }
  // Missing: wait a tick longer for it if the recent arrivals call for more
  // delay (the buffer grows by a frame), else give up on it.
  if (grow) {
    ++waited_;
  } else {
    ++head_;
    waited_ = 0;
  }
  return Result::Lost;
}

int JitterBuffer::delay_ms() const {
  if (!started_) return 0;
  int64_t buffered = newest_end_ - head_ * step_;
  if (buffered <= 0) return 0;
  return static_cast<int>(buffered * 1000 / rtp_clock_);
}

}  // namespace confab::media
