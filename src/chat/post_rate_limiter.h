// How fast the bot may post to a room: a token bucket (a burst of `burst`
// lines, then `per_second` lines a second). Lines over the rate wait in a
// queue, in order; only beyond `max_queued` waiting lines are they dropped,
// and the drop is counted so that the next line sent can say so.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>

namespace confab::chat {

class PostRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    double per_second = 3.0;
    double burst = 5.0;
    size_t max_queued = 200;
  };
  explicit PostRateLimiter(Limits limits, Clock::time_point now = Clock::now());

  // Queues a line; false (and counted in dropped()) when the queue is full.
  bool push(std::string line);
  // The next line that may be sent at `now`, or nullopt (none queued, or the
  // rate is used up: see next_at()). After drops, the line says how many were lost.
  std::optional<std::string> pop(Clock::time_point now);
  // When the next queued line may go (now or later); nullopt if none is queued.
  std::optional<Clock::time_point> next_at(Clock::time_point now);
  size_t queued() const { return queue_.size(); }
  size_t dropped() const { return dropped_total_; }

 private:
  void refill(Clock::time_point now);
  Limits limits_;
  double tokens_;
  Clock::time_point last_;
  std::deque<std::string> queue_;
  size_t dropped_since_sent_ = 0;
  size_t dropped_total_ = 0;
};

}  // namespace confab::chat
