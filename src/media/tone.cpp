#include "media/tone.h"

#include <cmath>
#include <numbers>

#include "media/audio.h"

namespace confab::media {

ToneGenerator::ToneGenerator(double frequency, int rate, double amplitude)
    : step_(2 * std::numbers::pi * frequency / rate), amplitude_(amplitude * 32767.0) {}

void ToneGenerator::fill(int16_t* pcm, size_t samples) {
  for (size_t i = 0; i < samples; ++i) {
    pcm[i] = saturate(static_cast<int32_t>(std::lround(amplitude_ * std::sin(phase_))));
    phase_ += step_;
    if (std::abs(phase_) >= 2 * std::numbers::pi) phase_ = std::fmod(phase_, 2 * std::numbers::pi);  // keep precision
  }
}

}  // namespace confab::media
