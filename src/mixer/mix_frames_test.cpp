// The vectorized sample loops against the plain per-sample arithmetic, at the
// mixer's frame lengths and at lengths that leave a scalar tail.
#include "mixer/mix_frames.h"

#include <gtest/gtest.h>

#include <vector>

using namespace confab;

namespace {

std::vector<int16_t> samples(size_t n, uint32_t seed) {
  std::vector<int16_t> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<int16_t>(seed >> 16);  // full scale, so sums saturate often
  }
  return v;
}

}  // namespace

TEST(MixFrames, MatchPerSampleArithmetic) {
  for (size_t n : {160u, 320u, 960u, 1u, 17u, 170u}) {
    auto a = samples(n, 1), b = samples(n, 2), c = samples(n, 3);
    std::vector<int32_t> sum(n);
    mixer::mix_assign(sum.data(), a.data(), n);
    mixer::mix_add(sum.data(), b.data(), n);
    mixer::mix_add(sum.data(), c.data(), n);
    std::vector<int16_t> full(n), minus_b(n);
    mixer::mix_saturate(full.data(), sum.data(), n);
    mixer::mix_minus(minus_b.data(), sum.data(), b.data(), n);
    auto gained = a;
    mixer::mix_gain(gained.data(), 8192, n);  // +6 dB
    std::vector<int32_t> heard(n);  // a listening leg: its N-1, then another mix at -12 dB and +12 dB
    mixer::mix_copy_minus(heard.data(), sum.data(), b.data(), n);
    mixer::mix_add_scaled(heard.data(), c.data(), 1028, n);
    mixer::mix_add_scaled(heard.data(), a.data(), 16306, n);
    for (size_t i = 0; i < n; ++i) {
      int32_t s = int32_t{a[i]} + b[i] + c[i];
      ASSERT_EQ(sum[i], s) << "n=" << n << " i=" << i;
      ASSERT_EQ(full[i], media::saturate(s)) << "n=" << n << " i=" << i;
      ASSERT_EQ(minus_b[i], media::saturate(int32_t{a[i]} + c[i])) << "n=" << n << " i=" << i;
      ASSERT_EQ(gained[i], media::saturate(a[i] * 2)) << "n=" << n << " i=" << i;
      ASSERT_EQ(heard[i], s - b[i] + ((c[i] * 1028) >> 12) + ((a[i] * 16306) >> 12)) << "n=" << n << " i=" << i;
    }
  }
}

TEST(MixFrames, SaturateAtTheLimits) {
  std::vector<int32_t> sum = {32767, 32768, -32768, -32769, 100000, -100000, 0, -1,
                              32767, 32768, -32768, -32769, 100000, -100000, 0, -1};
  std::vector<int16_t> out(sum.size());
  mixer::mix_saturate(out.data(), sum.data(), sum.size());
  std::vector<int16_t> want = {32767, 32767, -32768, -32768, 32767, -32768, 0, -1,
                               32767, 32767, -32768, -32768, 32767, -32768, 0, -1};
  EXPECT_EQ(out, want);
}
