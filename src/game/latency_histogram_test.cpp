#include "game/latency_histogram.h"

#include <gtest/gtest.h>

namespace confab::game {
namespace {

using std::chrono::microseconds;

TEST(LatencyHistogram, IsZeroWhenEmpty) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.quantile_ms(0.5), 0);
  EXPECT_EQ(h.quantile_ms(0.99), 0);
  EXPECT_EQ(h.max_ms(), 0);
}

TEST(LatencyHistogram, QuantilesAreWithinABucketOfTheSamples) {
  LatencyHistogram h;
  for (int i = 1; i <= 100; ++i) h.add(microseconds(i * 1000));  // 1 ms .. 100 ms
  EXPECT_EQ(h.count(), 100u);
  EXPECT_NEAR(h.quantile_ms(0.5), 50, 50 * 0.045);
  EXPECT_NEAR(h.quantile_ms(0.99), 99, 99 * 0.045);
  EXPECT_GE(h.quantile_ms(0.5), 50);  // the bucket's upper edge: never below the sample
  EXPECT_EQ(h.quantile_ms(1.0), 100);  // never above the longest
  EXPECT_EQ(h.max_ms(), 100);
}

TEST(LatencyHistogram, OneSlowSampleInAHundredIsThe99thPercentileOnlyBeyondIt) {
  LatencyHistogram h;
  for (int i = 0; i < 99; ++i) h.add(microseconds(2000));
  h.add(microseconds(900000));
  EXPECT_NEAR(h.quantile_ms(0.99), 2, 0.1);
  EXPECT_EQ(h.quantile_ms(0.995), 900);
  EXPECT_EQ(h.max_ms(), 900);
}

TEST(LatencyHistogram, KeepsNegativeAndHugeDurationsInRange) {
  LatencyHistogram h;
  h.add(microseconds(-5));
  h.add(microseconds(int64_t{1} << 40));  // about 13 days: the last bucket
  EXPECT_EQ(h.count(), 2u);
  EXPECT_LT(h.quantile_ms(0.5), 0.001);
  EXPECT_DOUBLE_EQ(h.quantile_ms(1.0), h.max_ms());
}

}  // namespace
}  // namespace confab::game
