#include "media/resampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "media/audio.h"
#include "media/tone.h"

using namespace confab::media;

namespace {

// Zero crossings per second of the steady part: twice the frequency of a clean tone.
double tone_frequency(const std::vector<int16_t>& pcm, int rate) {
  size_t skip = static_cast<size_t>(rate) / 20, crossings = 0;
  for (size_t i = skip + 1; i < pcm.size(); ++i) crossings += (pcm[i - 1] < 0) != (pcm[i] < 0);
  return crossings / 2.0 * rate / static_cast<double>(pcm.size() - skip - 1);
}

std::vector<int16_t> convert(Resampler& r, const std::vector<int16_t>& in, size_t frame) {
  std::vector<int16_t> out, chunk(frame * static_cast<size_t>(r.out_rate()) / static_cast<size_t>(r.in_rate()) + 64);
  for (size_t at = 0; at < in.size(); at += frame) {
    size_t n = r.process(in.data() + at, std::min(frame, in.size() - at), chunk.data(), chunk.size());
    out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  }
  return out;
}

class Upsampling : public ::testing::TestWithParam<int> {};

}  // namespace

TEST_P(Upsampling, KeepsFrequencyAndDuration) {
  int out_rate = GetParam();
  std::vector<int16_t> tone(8000);  // 1 s at 8 kHz
  ToneGenerator(1000, 8000).fill(tone.data(), tone.size());
  Resampler r(8000, out_rate);
  EXPECT_EQ(r.in_rate(), 8000);
  EXPECT_EQ(r.out_rate(), out_rate);
  auto out = convert(r, tone, frame_samples(8000));
  double ratio = out_rate / 8000.0;
  EXPECT_NEAR(static_cast<double>(out.size()), tone.size() * ratio, 2 * ratio);
  EXPECT_NEAR(tone_frequency(out, out_rate), 1000, 10);
  EXPECT_NEAR(tone_frequency(tone, 8000), 1000, 10);  // the measure itself
}

INSTANTIATE_TEST_SUITE_P(Rates, Upsampling, ::testing::Values(16000, 48000));

TEST(Resampler, DownsamplesAndCopiesAtEqualRates) {
  std::vector<int16_t> tone(48000);
  ToneGenerator(1000, 48000).fill(tone.data(), tone.size());
  Resampler down(48000, 8000);
  auto out = convert(down, tone, frame_samples(48000));
  EXPECT_NEAR(static_cast<double>(out.size()), 8000, 2);
  EXPECT_NEAR(tone_frequency(out, 8000), 1000, 10);

  Resampler same(16000, 16000);
  std::vector<int16_t> copy(tone.size());
  EXPECT_EQ(same.process(tone.data(), 320, copy.data(), copy.size()), 320u);
  EXPECT_TRUE(std::equal(tone.begin(), tone.begin() + 320, copy.begin()));

  // A small output buffer limits what is written.
  Resampler up(8000, 16000);
  EXPECT_LE(up.process(tone.data(), 160, copy.data(), 100), 100u);
}

TEST(Resampler, RejectsBadRates) {
  EXPECT_THROW(Resampler(0, 8000), std::exception);
  EXPECT_THROW(Resampler(8000, -1), std::exception);
}
