#include "chat/post_rate_limiter.h"

#include <algorithm>

namespace confab::chat {

PostRateLimiter::PostRateLimiter(Limits limits, Clock::time_point now)
    : limits_(limits), tokens_(limits.burst), last_(now) {
  if (limits_.per_second <= 0) limits_.per_second = 1;
  if (limits_.burst < 1) limits_.burst = 1;
}

void PostRateLimiter::refill(Clock::time_point now) {
  if (now <= last_) return;
  double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(limits_.burst, tokens_ + seconds * limits_.per_second);
  last_ = now;
}

bool PostRateLimiter::push(std::string line) {
  if (queue_.size() >= limits_.max_queued) {
    ++dropped_since_sent_;
    ++dropped_total_;
    return false;
  }
  queue_.push_back(std::move(line));
  return true;
}

std::optional<std::string> PostRateLimiter::pop(Clock::time_point now) {
  refill(now);
  if (queue_.empty() || tokens_ < 1.0) return std::nullopt;
  tokens_ -= 1.0;
  std::string line = std::move(queue_.front());
  queue_.pop_front();
  if (dropped_since_sent_ > 0) {
    line += " (" + std::to_string(dropped_since_sent_) + " earlier lines were dropped: too many at once)";
    dropped_since_sent_ = 0;
  }
  return line;
}

std::optional<PostRateLimiter::Clock::time_point> PostRateLimiter::next_at(Clock::time_point now) {
  if (queue_.empty()) return std::nullopt;
  refill(now);
  if (tokens_ >= 1.0) return now;
  auto wait = std::chrono::duration<double>((1.0 - tokens_) / limits_.per_second);
  return now + std::chrono::duration_cast<Clock::duration>(wait) + std::chrono::microseconds(1);
}

}  // namespace confab::chat
