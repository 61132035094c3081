// Audio basics shared by the media code: 16-bit mono PCM in 20 ms frames.
#pragma once

#include <cstddef>
#include <cstdint>

namespace confab::media {

constexpr int kFrameMs = 20;
constexpr int kMaxRate = 48000;
constexpr size_t kMaxFrameSamples = kMaxRate * kFrameMs / 1000;  // 960

// Samples in one 20 ms frame at `rate` Hz.
constexpr size_t frame_samples(int rate) { return static_cast<size_t>(rate) * kFrameMs / 1000; }

// Saturating conversion of a 32-bit sum to a 16-bit sample (no wrap-around).
constexpr int16_t saturate(int32_t v) {
  return static_cast<int16_t>(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

}  // namespace confab::media
