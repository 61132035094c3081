// The inside of MixEngine: a mixing thread (Worker) with the mixes and legs it
// owns. Only the worker's own thread touches them; other threads post commands,
// which run at the start of the next 20 ms tick.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/audio_stream.h"
#include "media/resampler.h"
#include "mixer/mix_engine.h"

namespace confab::mixer {

// A gain in dB as a linear factor with 12 fractional bits.
int32_t gain_q12(double gain_db);

struct MixEngine::Leg {
  // A link to another mix this leg hears (set_listen).
  struct Link {
    std::string mix;
    double gain_db = 0;
    int32_t gain_q12 = 4096;
    Mix* target = nullptr;  // set by Worker::relink; null while that mix is not on this thread, or is the leg's own
  };

  LegId id;
  std::string mix;
  std::unique_ptr<media::AudioStream> stream;
  bool muted = false;
  double gain_db = 0;
  int32_t gain_q12 = 4096;  // linear gain, 12 fractional bits
  uint64_t started_ms = 0;
  bool timeout_reported = false;
  bool latch_reported = false;
  bool contributed = false;
  // Ahead of `frame`: next to `contributed`, in a cache line the mixing loop reads anyway.
  std::vector<Link> links;  // not empty: the leg's output is made after every mix of the tick is summed
  Mix* own = nullptr;       // its mix, resolved by Worker::relink while it has links
  std::array<int16_t, media::kMaxFrameSamples> frame{};
};

struct MixEngine::Mix {
  // This tick's full mix, kept for legs of other mixes that listen to it, at
  // its own rate and at each rate a listener's mix needs (resampled once a tick).
  struct Heard {
    struct AtRate {
      int rate = 0;
      std::unique_ptr<media::Resampler> resampler;
      uint64_t tick = ~0ull;  // the tick `frame` was made in
      std::array<int16_t, media::kMaxFrameSamples> frame{};
    };
    std::array<int16_t, media::kMaxFrameSamples> full{};
    std::vector<AtRate> rates;
  };

  // legs, rate, kept_sum and heard are read every tick: together, ahead of the id.
  std::vector<Leg*> legs;
  int rate = 8000;
  // Set by Worker::relink only while needed, so the other mixes pay nothing.
  std::unique_ptr<std::array<int32_t, media::kMaxFrameSamples>> kept_sum;  // this tick's sum, for its listening legs
  std::unique_ptr<Heard> heard;  // for legs of other mixes listening to it
  std::string id;

  void update_rate() {
    rate = 8000;
    for (auto* l : legs) rate = std::max(rate, media::describe(l->stream->terms().codec).pcm_rate);
  }
  // This tick's full mix at `to_rate` (heard must be set).
  const int16_t* heard_at(int to_rate, uint64_t tick);
};

struct MixEngine::Worker {
  MixEngine& engine;
  int index;
  std::thread thread;
  std::mutex mutex;
  std::vector<std::function<void(Worker&)>> commands;
  std::atomic<bool> stopping{false};
  std::map<LegId, std::unique_ptr<Leg>> legs;
  std::map<std::string, Mix> mixes;
  std::map<LegId, std::vector<LegCommand>> arriving;  // legs on their way from another thread: commands for them
  std::vector<Leg*> listeners;  // legs with links
  bool relink_due = false;      // legs, mixes or links changed: Worker::relink before the next mix
  bool relinked_any = false;    // the last relink set something up (so the next one has work)
  int epoll_fd = -1;
  std::atomic<uint64_t> ticks{0}, late_ticks{0}, encodes{0}, shared_encodes{0}, leg_count{0}, mix_count{0};
  std::atomic<uint64_t> busy_us{0}, max_work_us{0}, max_wake_late_us{0};

  Worker(MixEngine& e, int i);
  ~Worker();

  void post(std::function<void(Worker&)> fn) {
    std::lock_guard lock(mutex);
    commands.push_back(std::move(fn));
  }

  // Takes a leg into its mix (new, or moved here), then runs the commands that waited for it.
  void attach(std::unique_ptr<Leg> leg);
  std::unique_ptr<Leg> detach(LegId id);
  // A leg moving here from another thread: commands for it wait until it arrives.
  void expect(LegId id) { arriving[id]; }
  void run_for_leg(LegId id, const LegCommand& fn);
  // Adds, changes (gain_db) or removes (nullopt) a leg's link to `mix`.
  void set_link(Leg& leg, const std::string& mix, std::optional<double> gain_db);

 private:
  void run();
  void drain();
  void relink();
  void receive_and_mix(uint64_t now_ms);
  void check_timeouts(uint64_t now_ms);
  void mix_once(Mix& mix);
  void send_to_listeners();
};

}  // namespace confab::mixer
