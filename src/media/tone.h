// Sine tone generator: the test signal of every audio check.
#pragma once

#include <cstddef>
#include <cstdint>

namespace confab::media {

class ToneGenerator {
 public:
  // amplitude in 0..1 of full scale.
  ToneGenerator(double frequency, int rate, double amplitude = 0.5);
  void fill(int16_t* pcm, size_t samples);

 private:
  double phase_ = 0, step_, amplitude_;
};

}  // namespace confab::media
