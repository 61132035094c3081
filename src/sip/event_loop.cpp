#include "sip/event_loop.h"

#include <sofia-sip/su.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_wait.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "sip/sofia_runtime.h"

namespace confab::sip {

EventLoop::EventLoop() {
  ensure_sofia_runtime();
  root_ = su_root_create(nullptr);
  if (!root_) throw std::runtime_error("su_root_create failed");
  // nua must not start a thread of its own: the SIP thread is the one running this loop.
  su_root_threading(root_, 0);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
  su_wait_t wait[1];
  su_wait_create(wait, wake_fd_, SU_WAIT_IN);
  if (su_root_register(root_, wait, reinterpret_cast<su_wakeup_f>(&EventLoop::on_wakeup),
                       reinterpret_cast<su_wakeup_arg_t*>(this), 0) < 0)
    throw std::runtime_error("su_root_register failed");
}

EventLoop::~EventLoop() {
  if (root_) su_root_destroy(root_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void EventLoop::run() {
  drain_posted();
  su_root_run(root_);
}

void EventLoop::run_for(std::chrono::milliseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  do {
    drain_posted();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    // Always poll at least once, even when less than a millisecond is left.
    su_root_step(root_, static_cast<su_duration_t>(std::max<int64_t>(0, left.count())));
  } while (std::chrono::steady_clock::now() < until);
}

void EventLoop::stop() {
  post([this] { su_root_break(root_); });
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::drain_posted() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) {
    try {
      fn();
    } catch (const std::exception& e) {
      spdlog::error("posted task failed: {}", e.what());
    }
  }
}

FdWatch::FdWatch(EventLoop& loop, int fd, std::function<void()> readable) : loop_(loop), readable_(std::move(readable)) {
  su_wait_t wait[1];
  su_wait_create(wait, fd, SU_WAIT_IN | SU_WAIT_HUP);
  index_ = su_root_register(loop_.native(), wait, reinterpret_cast<su_wakeup_f>(&FdWatch::on_ready),
                            reinterpret_cast<su_wakeup_arg_t*>(this), 0);
  if (index_ < 0) throw std::runtime_error("su_root_register failed");
}

FdWatch::~FdWatch() { su_root_deregister(loop_.native(), index_); }

int FdWatch::on_ready(void*, void*, void* arg) {
  auto* self = static_cast<FdWatch*>(arg);
  try {
    self->readable_();  // may destroy the watch: nothing of it is used after
  } catch (const std::exception& e) {
    spdlog::error("fd watch failed: {}", e.what());
  }
  return 0;
}

int EventLoop::on_wakeup(void*, void*, void* arg) {
  auto* self = static_cast<EventLoop*>(arg);
  uint64_t count;
  while (::read(self->wake_fd_, &count, sizeof count) > 0) {
  }
  self->drain_posted();
  return 0;
}

Timer::Timer(EventLoop& loop) {
  timer_ = su_timer_create(su_root_task(loop.native()), 0);
  if (!timer_) throw std::runtime_error("su_timer_create failed");
}

Timer::~Timer() { su_timer_destroy(timer_); }

void Timer::once(std::chrono::milliseconds after, std::function<void()> fn) {
  fn_ = std::move(fn);
  interval_ = std::chrono::milliseconds{0};
  su_timer_set_interval(timer_, &Timer::on_expire, this, static_cast<su_duration_t>(after.count()));
}

void Timer::every(std::chrono::milliseconds interval, std::function<void()> fn) {
  fn_ = std::move(fn);
  interval_ = interval;
  su_timer_set_interval(timer_, &Timer::on_expire, this, static_cast<su_duration_t>(interval.count()));
}

void Timer::cancel() { su_timer_reset(timer_); }

bool Timer::active() const { return su_timer_is_set(timer_) != 0; }

void Timer::on_expire(void*, su_timer_s*, void* arg) {
  auto* self = static_cast<Timer*>(arg);
  if (self->interval_.count() > 0)
    su_timer_set_interval(self->timer_, &Timer::on_expire, self, static_cast<su_duration_t>(self->interval_.count()));
  // Copy: the callback may re-arm or destroy this timer.
  auto fn = self->fn_;
  try {
    if (fn) fn();
  } catch (const std::exception& e) {
    spdlog::error("timer callback failed: {}", e.what());
  }
}

}  // namespace confab::sip
