#include "chat/post_rate_limiter.h"

#include <gtest/gtest.h>

using confab::chat::PostRateLimiter;
using namespace std::chrono_literals;

TEST(PostRateLimiter, SendsABurstThenAtTheRateInOrder) {
  auto t0 = PostRateLimiter::Clock::now();
  PostRateLimiter limiter({.per_second = 2, .burst = 3, .max_queued = 100}, t0);
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(limiter.push("line " + std::to_string(i)));
  std::vector<std::string> sent;
  while (auto line = limiter.pop(t0)) sent.push_back(*line);
  EXPECT_EQ(sent, (std::vector<std::string>{"line 0", "line 1", "line 2"}));
  // The rest wait: the next one half a second later (2 a second), none before.
  auto next = limiter.next_at(t0);
  ASSERT_TRUE(next);
  EXPECT_NEAR(std::chrono::duration<double>(*next - t0).count(), 0.5, 0.01);
  EXPECT_FALSE(limiter.pop(t0 + 400ms));
  EXPECT_EQ(limiter.pop(t0 + 501ms), "line 3");
  EXPECT_FALSE(limiter.pop(t0 + 600ms));
  EXPECT_EQ(limiter.pop(t0 + 1001ms), "line 4");
  EXPECT_EQ(limiter.pop(t0 + 1502ms), "line 5");
  EXPECT_FALSE(limiter.next_at(t0 + 2s));
  EXPECT_EQ(limiter.dropped(), 0u);
}

TEST(PostRateLimiter, NeverMoreThanTheRateOverALongRun) {
  auto t0 = PostRateLimiter::Clock::now();
  PostRateLimiter limiter({.per_second = 3, .burst = 5, .max_queued = 1000}, t0);
  for (int i = 0; i < 500; ++i) limiter.push("x");
  int sent = 0;
  for (auto t = t0; t < t0 + 10s; t += 10ms)
    while (limiter.pop(t)) ++sent;
  EXPECT_LE(sent, 5 + 30 + 1);
  EXPECT_GE(sent, 5 + 29);
}

TEST(PostRateLimiter, AFullQueueDropsAndTheNextLineSaysSo) {
  auto t0 = PostRateLimiter::Clock::now();
  PostRateLimiter limiter({.per_second = 1, .burst = 1, .max_queued = 2}, t0);
  EXPECT_TRUE(limiter.push("a"));
  EXPECT_TRUE(limiter.push("b"));
  EXPECT_FALSE(limiter.push("c"));
  EXPECT_FALSE(limiter.push("d"));
  EXPECT_EQ(limiter.dropped(), 2u);
  auto first = limiter.pop(t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "a (2 earlier lines were dropped: too many at once)");
  EXPECT_EQ(limiter.pop(t0 + 1001ms), "b");
}

TEST(PostRateLimiter, TokensDoNotPileUpBeyondTheBurst) {
  auto t0 = PostRateLimiter::Clock::now();
  PostRateLimiter limiter({.per_second = 10, .burst = 2, .max_queued = 10}, t0);
  for (int i = 0; i < 5; ++i) limiter.push("x");
  int sent = 0;
  while (limiter.pop(t0 + 1h)) ++sent;
  EXPECT_EQ(sent, 2);
}
