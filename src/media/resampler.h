// Sample-rate conversion between 8, 16 and 48 kHz (speexdsp).
#pragma once

#include <cstddef>
#include <cstdint>

struct SpeexResamplerState_;

namespace confab::media {

class Resampler {
 public:
  // quality 0..10 (speexdsp); 3 is its VoIP default.
  Resampler(int in_rate, int out_rate, int quality = 3);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }
  // Converts `in_samples` samples; returns samples written to `out`.
  size_t process(const int16_t* in, size_t in_samples, int16_t* out, size_t capacity);

 private:
  SpeexResamplerState_* state_ = nullptr;
  int in_rate_, out_rate_;
};

}  // namespace confab::media
