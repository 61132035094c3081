// Durations counted in buckets 1/16 of an octave wide (each bucket's upper
// edge is 4.4% above its lower one), from 1 us to about 17 s (longer ones go in
// the last bucket, whose quantile is the longest sample): quantiles of many
// samples in constant memory (GET /metrics).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace confab::game {

class LatencyHistogram {
 public:
  void add(std::chrono::microseconds d) {
    int64_t us = std::max<int64_t>(d.count(), 0);
    auto bucket = static_cast<size_t>(kPerOctave * std::log2(static_cast<double>(us) + 1));
    ++counts_[std::min(bucket, kBuckets - 1)];
    ++total_;
    max_us_ = std::max(max_us_, us);
  }
  uint64_t count() const { return total_; }
  double max_ms() const { return static_cast<double>(max_us_) / 1000; }
  // The upper edge of the bucket holding quantile `q` (0.5: the median), in ms,
  // never above the largest sample; 0 when empty.
  double quantile_ms(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_)));
    uint64_t seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      seen += counts_[b];
      if (seen < std::max<uint64_t>(rank, 1)) continue;
      if (b == kBuckets - 1) break;  // the last bucket has no upper edge
      return std::min((std::exp2(static_cast<double>(b + 1) / kPerOctave) - 1) / 1000, max_ms());
    }
    return max_ms();
  }

 private:
  static constexpr size_t kPerOctave = 16, kBuckets = 24 * kPerOctave;
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  int64_t max_us_ = 0;
};

}  // namespace confab::game
