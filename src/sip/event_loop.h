// The SIP thread: one Sofia-SIP event loop (su_root) per process part.
//
// Threading model (see docs/architecture.md): every Sofia object of a part
// (transaction layer, user agents, timers) is created, used and destroyed on
// the thread that runs its EventLoop. Other threads (HTTP servers, the mixing
// thread) never touch Sofia objects; they hand work over with post().
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

struct su_root_s;
struct su_timer_s;

namespace confab::sip {

class EventLoop {
 public:
  // Sofia binds the loop to the creating thread: create it on the thread that runs it.
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs callbacks until stop() is called. The calling thread becomes the SIP thread.
  void run();
  // Runs callbacks for about `d`, then returns (for tests and bounded loops).
  void run_for(std::chrono::milliseconds d);
  // Makes run() return after the callback under way. Safe from any thread.
  void stop();
  // Queues `fn` to run on the SIP thread. Safe from any thread, any time.
  void post(std::function<void()> fn);

  // For src/sip only: the underlying su_root.
  su_root_s* native() const { return root_; }

 private:
  void drain_posted();
  static int on_wakeup(void* magic, void* wait, void* arg);

  su_root_s* root_ = nullptr;
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::deque<std::function<void()>> posted_;
};

// Runs `readable` on the SIP thread whenever `fd` can be read (data, end of
// file or an error), until destroyed. The fd stays the caller's; it must
// outlive the watch.
class FdWatch {
 public:
  FdWatch(EventLoop& loop, int fd, std::function<void()> readable);
  ~FdWatch();
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

 private:
  static int on_ready(void* magic, void* wait, void* arg);
  EventLoop& loop_;
  int index_ = -1;
  std::function<void()> readable_;
};

// A one-shot or periodic timer on an EventLoop. Destroying it cancels it.
class Timer {
 public:
  explicit Timer(EventLoop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void once(std::chrono::milliseconds after, std::function<void()> fn);
  void every(std::chrono::milliseconds interval, std::function<void()> fn);
  void cancel();
  bool active() const;

 private:
  static void on_expire(void* magic, su_timer_s* t, void* arg);
  su_timer_s* timer_ = nullptr;
  std::function<void()> fn_;
  std::chrono::milliseconds interval_{0};
};

}  // namespace confab::sip
