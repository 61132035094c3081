#include "mixer/mix_engine.h"

#include <time.h>

#include <algorithm>
#include <future>

#include "mixer/mix_worker.h"

namespace confab::mixer {

using media::AudioStream;

namespace {

uint64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // the mixing threads' clock
  return static_cast<uint64_t>(ts.tv_sec) * 1000ull + static_cast<uint64_t>(ts.tv_nsec) / 1000000ull;
}

std::string codec_name(media::Codec c) { return std::string(media::describe(c).name); }

}  // namespace

MixEngine::MixEngine(Options options, EventCallback on_event, DigitCallback on_digit)
    : options_(options), on_event_(std::move(on_event)), on_digit_(std::move(on_digit)) {
  int cores = std::max(1u, std::thread::hardware_concurrency());
  int n = std::clamp(options_.threads, 1, cores);  // one mixing thread per core at most
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
}

MixEngine::~MixEngine() { workers_.clear(); }

std::string_view MixEngine::affinity_key(std::string_view mix) {
  auto dash = mix.rfind('-');
  return dash == std::string_view::npos ? mix : mix.substr(0, dash);
}

MixEngine::Worker& MixEngine::worker_for(std::string_view mix) {
  return *workers_[std::hash<std::string_view>{}(affinity_key(mix)) % workers_.size()];
}

MixEngine::Worker* MixEngine::worker_of(LegId leg) const {
  std::lock_guard lock(legs_mutex_);
  auto it = placements_.find(leg);
  return it == placements_.end() ? nullptr : it->second.worker;
}

bool MixEngine::has_leg(LegId leg) const { return worker_of(leg) != nullptr; }

LegId MixEngine::add_leg(const std::string& mix, std::unique_ptr<AudioStream> stream, const media::StreamTerms& terms) {
  LegId id = next_leg_++;
  auto leg = std::make_shared<std::unique_ptr<Leg>>(std::make_unique<Leg>());
  (*leg)->id = id;
  (*leg)->mix = mix;
  (*leg)->stream = std::move(stream);
  (*leg)->stream->set_terms(terms);
  (*leg)->started_ms = monotonic_ms();
  if (on_digit_) (*leg)->stream->on_digit = [this, id](char d) { on_digit_(id, d); };
  Worker& w = worker_for(mix);
  std::lock_guard lock(legs_mutex_);
  placements_[id] = {&w, mix, {}};
  w.post([leg](Worker& worker) { worker.attach(std::move(*leg)); });
  return id;
}

void MixEngine::post_command(Worker& worker, LegId id, LegCommand fn) {
  worker.post([id, fn = std::move(fn)](Worker& w) { w.run_for_leg(id, fn); });
}

void MixEngine::post_to_leg(LegId id, LegCommand fn) {
  std::lock_guard lock(legs_mutex_);  // held while posting: a leg's commands reach its workers in call order
  if (auto it = placements_.find(id); it != placements_.end()) post_command(*it->second.worker, id, std::move(fn));
}

void MixEngine::remove_leg(LegId id) {
  std::lock_guard lock(legs_mutex_);
  auto it = placements_.find(id);
  if (it == placements_.end()) return;
  post_command(*it->second.worker, id, [](Worker& worker, Leg& leg) { worker.detach(leg.id); });
  placements_.erase(it);
}

// The leg's links go with it; those to mixes of another thread than its new
// mix's stay silent until it comes back (Worker::relink resolves them).
void MixEngine::move_leg(LegId id, const std::string& mix) {
  Worker& to = worker_for(mix);
  std::lock_guard lock(legs_mutex_);
  auto it = placements_.find(id);
  if (it == placements_.end()) return;
  Worker* from = it->second.worker;
  post_command(*from, id, [mix, &to](Worker& worker, Leg& leg) {
    auto moving = worker.detach(leg.id);
    moving->mix = mix;
    if (&to == &worker) {
      worker.attach(std::move(moving));  // same thread: effective this very tick
      return;
    }
    auto holder = std::make_shared<std::unique_ptr<Leg>>(std::move(moving));
    to.post([holder](Worker& w) { w.attach(std::move(*holder)); });
  });
  it->second.mix = mix;
  if (from == &to) return;
  it->second.worker = &to;
  to.post([id](Worker& w) { w.expect(id); });  // commands posted there before the leg arrives wait for it
}

void MixEngine::set_terms(LegId id, const media::StreamTerms& terms) {
  post_to_leg(id, [terms](Worker& worker, Leg& leg) {
    leg.stream->set_terms(terms);
    leg.timeout_reported = false;
    auto m = worker.mixes.find(leg.mix);
    if (m != worker.mixes.end()) m->second.update_rate();
  });
}

void MixEngine::set_mute(LegId id, bool muted) {
  post_to_leg(id, [muted](Worker&, Leg& leg) { leg.muted = muted; });
}

void MixEngine::set_gain(LegId id, double gain_db) {
  gain_db = std::clamp(gain_db, kMinGainDb, kMaxGainDb);
  int32_t q12 = gain_q12(gain_db);
  post_to_leg(id, [gain_db, q12](Worker&, Leg& leg) {
    leg.gain_db = gain_db;
    leg.gain_q12 = q12;
  });
}

bool MixEngine::set_listen(LegId id, const std::string& mix, std::optional<double> gain_db, std::string* error) {
  auto refuse = [error](const char* why) {
    if (error) *error = why;
    return false;
  };
  if (mix.empty()) return refuse("listen needs a mix");
  if (gain_db && !(*gain_db >= kMinGainDb && *gain_db <= kMaxGainDb))
    return refuse("listen gain must be -60 to +12 dB");
  std::lock_guard lock(legs_mutex_);
  auto it = placements_.find(id);
  if (it == placements_.end()) return refuse("No Such Leg");
  Placement& p = it->second;
  if (!gain_db) {
    p.links.erase(mix);
  } else {
    if (mix == p.mix) return refuse("a leg cannot listen to its own mix");
    if (&worker_for(mix) != p.worker) return refuse("that mix is on another mixing thread");
    if (!p.links.contains(mix) && p.links.size() >= kMaxListenLinks) return refuse("at most 8 listen links per leg");
    p.links[mix] = *gain_db;
  }
  post_command(*p.worker, id, [mix, gain_db](Worker& worker, Leg& leg) { worker.set_link(leg, mix, gain_db); });
  return true;
}

std::vector<MixInfo> MixEngine::snapshot() {
  std::vector<std::future<std::vector<MixInfo>>> parts;
  for (auto& w : workers_) {
    auto p = std::make_shared<std::promise<std::vector<MixInfo>>>();
    parts.push_back(p->get_future());
    w->post([p](Worker& worker) {
      std::vector<MixInfo> out;
      for (auto& [id, mix] : worker.mixes) {
        MixInfo info{id, mix.rate, {}};
        for (Leg* l : mix.legs) {
          const auto& t = l->stream->terms();
          std::vector<ListenInfo> listening;
          for (const auto& link : l->links) listening.push_back({link.mix, link.gain_db});
          info.legs.push_back({l->id, l->mix, codec_name(t.codec), l->stream->local_port(), l->stream->target().str(),
                               l->muted, l->gain_db, t.send, t.receive, l->stream->stats(), std::move(listening)});
        }
        out.push_back(std::move(info));
      }
      p->set_value(std::move(out));
    });
  }
  std::vector<MixInfo> all;
  for (auto& f : parts) {
    if (f.wait_for(std::chrono::seconds(2)) != std::future_status::ready) continue;
    for (auto& m : f.get()) all.push_back(std::move(m));
  }
  std::sort(all.begin(), all.end(), [](const MixInfo& a, const MixInfo& b) { return a.id < b.id; });
  return all;
}

EngineMetrics MixEngine::metrics() const {
  EngineMetrics m;
  for (auto& w : workers_) {
    m.ticks += w->ticks;
    m.late_ticks += w->late_ticks;
    m.busy_us += w->busy_us;
    m.max_work_us = std::max<uint64_t>(m.max_work_us, w->max_work_us);
    m.max_wake_late_us = std::max<uint64_t>(m.max_wake_late_us, w->max_wake_late_us);
    m.encodes += w->encodes;
    m.shared_encodes += w->shared_encodes;
    m.legs += w->leg_count;
    m.mixes += w->mix_count;
  }
  return m;
}

}  // namespace confab::mixer
