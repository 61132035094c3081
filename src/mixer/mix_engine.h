// The audio mixing engine: mixes of legs, each leg an RTP stream. Every 20 ms
// each mix sums its legs' decoded audio and sends every leg the sum minus its
// own contribution (N-1), saturated, encoded in the leg's codec. A mix runs on
// one mixing thread (at most one per core); legs sharing a codec and hearing
// the identical full mix share one encode.
//
// The API is thread-safe (the SIP thread calls it); changes take effect at the
// next tick boundary, so moving a leg between mixes leaves no gap.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "media/audio_stream.h"

namespace confab::mixer {

using LegId = uint64_t;

struct LegInfo {
  LegId id = 0;
  std::string mix;
  std::string codec;
  uint16_t local_port = 0;
  std::string remote;  // where its RTP goes (the SDP address, or the one latched onto)
  bool muted = false;
  double gain_db = 0;
  bool send = true, receive = true;
  media::StreamStats stats;
};

struct MixInfo {
  std::string id;
  int rate = 8000;
  std::vector<LegInfo> legs;
};

struct EngineMetrics {
  uint64_t ticks = 0;
  uint64_t late_ticks = 0;      // a tick whose work ended after the next tick was due
  uint64_t encodes = 0;         // encoder runs
  uint64_t shared_encodes = 0;  // sends that reused another leg's encode
  uint64_t legs = 0;
  uint64_t mixes = 0;
  uint64_t busy_us = 0;          // time spent working in ticks (not sleeping)
  uint64_t max_work_us = 0;      // the longest tick's work
  uint64_t max_wake_late_us = 0; // the latest wake-up after a tick was due
};

class MixEngine {
 public:
  struct Options {
    int threads = 1;
    int rtp_timeout_ms = 60000;  // a receiving leg silent this long is reported
  };
  // RtpTimeout: a receiving leg silent for rtp_timeout_ms. Latched: its RTP now goes where its RTP comes from.
  enum class LegEvent { RtpTimeout, Latched };
  // `on_event` is called on a mixing thread; hand it to the SIP thread yourself.
  using EventCallback = std::function<void(LegId, LegEvent)>;
  using DigitCallback = std::function<void(LegId, char)>;

  MixEngine(Options options, EventCallback on_event, DigitCallback on_digit = {});
  ~MixEngine();
  MixEngine(const MixEngine&) = delete;
  MixEngine& operator=(const MixEngine&) = delete;

  LegId add_leg(const std::string& mix, std::unique_ptr<media::AudioStream> stream, const media::StreamTerms& terms);
  void remove_leg(LegId leg);
  void move_leg(LegId leg, const std::string& mix);
  void set_terms(LegId leg, const media::StreamTerms& terms);
  void set_mute(LegId leg, bool muted);
  void set_gain(LegId leg, double gain_db);
  bool has_leg(LegId leg) const;

  // A consistent view of every mix, taken between ticks (waits up to a tick or two).
  std::vector<MixInfo> snapshot();
  EngineMetrics metrics() const;

 private:
  struct Leg;
  struct Mix;
  struct Worker;
  Worker& worker_for(const std::string& mix);
  Worker* worker_of(LegId leg) const;

  Options options_;
  EventCallback on_event_;
  DigitCallback on_digit_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex legs_mutex_;
  std::map<LegId, Worker*> leg_worker_;
  std::atomic<LegId> next_leg_{1};
};

}  // namespace confab::mixer
