// The audio mixing engine: mixes of legs, each leg an RTP stream. Every 20 ms
// each mix sums its legs' decoded audio and sends every leg the sum minus its
// own contribution (N-1), saturated, encoded in the leg's codec. A mix runs on
// one mixing thread (at most one per core); legs sharing a codec and hearing
// the identical full mix share one encode.
//
// A leg may also listen to other mixes, each at a gain (set_listen): it hears
// its own mix's N-1 plus each listened mix's full mix of the same tick at that
// gain, resampled to its mix's rate (a game's neighbouring zones). Mixes whose
// ids share an affinity key (affinity_key) run on the same thread, so a link
// only ever reads sums of its own thread.
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
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "media/audio_stream.h"

namespace confab::mixer {

using LegId = uint64_t;

// A leg's link to another mix it hears.
struct ListenInfo {
  std::string mix;
  double gain_db = 0;
};

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
  std::vector<ListenInfo> listening;
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

  // The gain range of set_gain (clamped) and of listen links (refused outside).
  static constexpr double kMinGainDb = -60, kMaxGainDb = 12;
  static constexpr size_t kMaxListenLinks = 8;
  // Makes `leg` hear `mix` at `gain_db` (a new link, or a new gain for an
  // existing one); nullopt removes the link (no error if there was none). A link
  // to a mix that does not exist yet is kept and silent until it does, and stays
  // when the leg moves; a link to the mix the leg is in contributes nothing.
  // Refused (false, a reason fit for a SIP reason phrase in `error`): no such
  // leg, an empty mix id, the leg's own mix, a gain outside kMinGainDb..kMaxGainDb,
  // more than kMaxListenLinks links, a mix on another mixing thread than the leg's.
  bool set_listen(LegId leg, const std::string& mix, std::optional<double> gain_db, std::string* error = nullptr);

  // The part of a mix id that picks its mixing thread: the id up to its last
  // '-' ("w1-nw" -> "w1"), or the whole id without one. Mixes sharing it share
  // a thread, so legs can move and listen between them.
  static std::string_view affinity_key(std::string_view mix);

  // A consistent view of every mix, taken between ticks (waits up to a tick or two).
  std::vector<MixInfo> snapshot();
  EngineMetrics metrics() const;

 private:
  struct Leg;
  struct Mix;
  struct Worker;
  using LegCommand = std::function<void(Worker&, Leg&)>;
  // Where a leg is as commands posted so far leave it (SIP-thread view, under legs_mutex_).
  struct Placement {
    Worker* worker = nullptr;
    std::string mix;
    std::map<std::string, double> links;  // mix -> gain_db
  };
  Worker& worker_for(std::string_view mix);
  Worker* worker_of(LegId leg) const;
  // Runs `fn` on the leg on its mixing thread at the next tick (on arrival, if
  // it is still on its way from another thread); nothing if it is gone.
  void post_to_leg(LegId leg, LegCommand fn);
  static void post_command(Worker& worker, LegId leg, LegCommand fn);  // legs_mutex_ held

  Options options_;
  EventCallback on_event_;
  DigitCallback on_digit_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex legs_mutex_;
  std::map<LegId, Placement> placements_;
  std::atomic<LegId> next_leg_{1};
};

}  // namespace confab::mixer
