#include "mixer/mix_engine.h"

#include <spdlog/spdlog.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <future>

#include "mixer/mix_frames.h"

namespace confab::mixer {

using media::AudioStream;
using media::Codec;
using media::kMaxFrameSamples;

namespace {

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

bool stateless(Codec c) { return c == Codec::Pcmu || c == Codec::Pcma; }

std::string codec_name(Codec c) { return std::string(media::describe(c).name); }

}  // namespace

struct MixEngine::Leg {
  LegId id;
  std::string mix;
  std::unique_ptr<AudioStream> stream;
  bool muted = false;
  double gain_db = 0;
  int32_t gain_q12 = 4096;  // linear gain, 12 fractional bits
  uint64_t started_ms = 0;
  bool timeout_reported = false;
  bool latch_reported = false;
  bool contributed = false;
  std::array<int16_t, kMaxFrameSamples> frame{};
};

struct MixEngine::Mix {
  std::string id;
  std::vector<Leg*> legs;
  int rate = 8000;
  void update_rate() {
    rate = 8000;
    for (auto* l : legs) rate = std::max(rate, media::describe(l->stream->terms().codec).pcm_rate);
  }
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
  int epoll_fd = -1;
  std::atomic<uint64_t> ticks{0}, late_ticks{0}, encodes{0}, shared_encodes{0}, leg_count{0}, mix_count{0};
  std::atomic<uint64_t> busy_us{0}, max_work_us{0}, max_wake_late_us{0};

  Worker(MixEngine& e, int i) : engine(e), index(i), epoll_fd(epoll_create1(EPOLL_CLOEXEC)) {
    if (epoll_fd < 0) throw std::runtime_error("epoll_create1 failed");
    thread = std::thread([this] { run(); });
  }
  ~Worker() {
    stopping = true;
    if (thread.joinable()) thread.join();
    ::close(epoll_fd);
  }

  void post(std::function<void(Worker&)> fn) {
    std::lock_guard lock(mutex);
    commands.push_back(std::move(fn));
  }

  void drain() {
    std::vector<std::function<void(Worker&)>> batch;
    {
      std::lock_guard lock(mutex);
      batch.swap(commands);
    }
    for (auto& fn : batch) fn(*this);
  }

  // Only RTCP sockets are in the epoll set (epoll data: the leg); RTP is read every tick.
  void attach(std::unique_ptr<Leg> leg) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = leg.get();
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, leg->stream->rtcp_fd(), &ev);
    auto& mix = mixes[leg->mix];
    mix.id = leg->mix;
    mix.legs.push_back(leg.get());
    mix.update_rate();
    legs[leg->id] = std::move(leg);
    leg_count = legs.size();
    mix_count = mixes.size();
  }

  std::unique_ptr<Leg> detach(LegId id) {
    auto it = legs.find(id);
    if (it == legs.end()) return nullptr;
    auto leg = std::move(it->second);
    legs.erase(it);
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, leg->stream->rtcp_fd(), nullptr);
    auto m = mixes.find(leg->mix);
    if (m != mixes.end()) {
      std::erase(m->second.legs, leg.get());
      if (m->second.legs.empty())
        mixes.erase(m);  // a mix ends with its last leg
      else
        m->second.update_rate();
    }
    leg_count = legs.size();
    mix_count = mixes.size();
    return leg;
  }

  void run() {
    // Mixing is real-time work: ask for SCHED_FIFO so ordinary threads (the SIP
    // thread, HTTP, other processes) cannot delay a tick. Without the privilege
    // the thread runs at normal priority.
    sched_param sp{};
    sp.sched_priority = 10;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0 && index == 0)
      spdlog::info("mixer: no real-time priority for the mixing thread (needs CAP_SYS_NICE); running at normal priority");
    uint64_t next = monotonic_ns();
    const uint64_t period = static_cast<uint64_t>(media::kFrameMs) * 1000000ull;
    while (!stopping) {
      uint64_t woke = monotonic_ns();
      if (woke > next) max_wake_late_us = std::max<uint64_t>(max_wake_late_us, (woke - next) / 1000);
      next += period;
      drain();
      uint64_t now_ms = monotonic_ns() / 1000000ull;
      receive_and_mix(now_ms);
      if (ticks % 25 == 0) check_timeouts(now_ms);
      ++ticks;
      uint64_t done = monotonic_ns();
      busy_us += (done - woke) / 1000;
      max_work_us = std::max<uint64_t>(max_work_us, (done - woke) / 1000);
      if (done > next) {
        ++late_ticks;
        if (done > next + 5 * period) next = done;  // far behind: resynchronise instead of bursting
        continue;
      }
      timespec until{static_cast<time_t>(next / 1000000000ull), static_cast<long>(next % 1000000000ull)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
    }
  }

  // Mix by mix: read each leg's RTP, then mix and send. A leg's socket and
  // state are touched twice in a row, still in cache (with thousands of legs a
  // receive pass over all of them, then a send pass, misses every time). Every
  // leg sends a packet every tick or so: one recvmmsg per leg and tick costs
  // less than asking epoll which of them have one (measured at 2000 legs).
  void receive_and_mix(uint64_t now_ms) {
    for (auto& [id, mix] : mixes) {
      for (Leg* leg : mix.legs) leg->stream->receive(now_ms);
      mix_once(mix);
    }
    epoll_event events[64];
    for (;;) {
      int n = epoll_wait(epoll_fd, events, 64, 0);
      for (int i = 0; i < n; ++i) static_cast<Leg*>(events[i].data.ptr)->stream->drain_rtcp();
      if (n < 64) break;
    }
  }

  // RTP timeouts, and legs that latched onto their RTP's source (every 25 ticks).
  void check_timeouts(uint64_t now_ms) {
    uint64_t limit = static_cast<uint64_t>(engine.options_.rtp_timeout_ms);
    for (auto& [id, leg] : legs) {
      if (leg->stream->stats().latched != leg->latch_reported) {
        leg->latch_reported = leg->stream->stats().latched;
        if (leg->latch_reported && engine.on_event_) engine.on_event_(id, LegEvent::Latched);
      }
      if (leg->timeout_reported || !leg->stream->terms().receive) continue;
      uint64_t last = std::max(leg->stream->last_packet_ms(), leg->started_ms);
      if (now_ms > last + limit) {
        leg->timeout_reported = true;
        if (engine.on_event_) engine.on_event_(id, LegEvent::RtpTimeout);
      }
    }
  }

  void mix_once(Mix& mix) {
    const int rate = mix.rate;
    const size_t n = media::frame_samples(rate);
    std::array<int32_t, kMaxFrameSamples> sum;  // only the first n are used; the first contributor sets them
    bool summed = false;
    for (Leg* leg : mix.legs) {
      auto kind = leg->stream->pull(leg->frame.data(), rate);
      leg->contributed = kind != AudioStream::Frame::Silence && !leg->muted;
      if (!leg->contributed) continue;
      if (leg->gain_q12 != 4096) mix_gain(leg->frame.data(), leg->gain_q12, n);
      if (summed)
        mix_add(sum.data(), leg->frame.data(), n);
      else
        mix_assign(sum.data(), leg->frame.data(), n);
      summed = true;
    }
    if (!summed) std::fill_n(sum.begin(), n, 0);
    // The full mix, saturated once for every leg that contributed nothing; of
    // those, legs with a stateless codec also share one encode per codec.
    std::array<int16_t, kMaxFrameSamples> full;
    bool full_done = false;
    std::array<std::array<uint8_t, media::kMaxRtpPacket>, 4> shared;
    std::array<size_t, 4> shared_size{};
    std::array<bool, 4> shared_done{};
    std::array<int16_t, kMaxFrameSamples> out;
    for (Leg* leg : mix.legs) {
      const auto& terms = leg->stream->terms();
      if (!terms.send) continue;
      if (leg->contributed) {
        mix_minus(out.data(), sum.data(), leg->frame.data(), n);
        leg->stream->push(out.data(), rate);
        ++encodes;
        continue;
      }
      if (!full_done) {
        mix_saturate(full.data(), sum.data(), n);
        full_done = true;
      }
      if (!stateless(terms.codec)) {
        leg->stream->push(full.data(), rate);
        ++encodes;
        continue;
      }
      auto c = static_cast<size_t>(terms.codec);
      if (!shared_done[c]) {
        shared_size[c] = leg->stream->encode(full.data(), rate, shared[c].data(), shared[c].size());
        shared_done[c] = true;
        ++encodes;
      } else {
        ++shared_encodes;
      }
      leg->stream->send_payload(shared[c].data(), shared_size[c]);
    }
  }
};

MixEngine::MixEngine(Options options, EventCallback on_event, DigitCallback on_digit)
    : options_(options), on_event_(std::move(on_event)), on_digit_(std::move(on_digit)) {
  int cores = std::max(1u, std::thread::hardware_concurrency());
  int n = std::clamp(options_.threads, 1, cores);  // one mixing thread per core at most
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(*this, i));
}

MixEngine::~MixEngine() { workers_.clear(); }

MixEngine::Worker& MixEngine::worker_for(const std::string& mix) {
  return *workers_[std::hash<std::string>{}(mix) % workers_.size()];
}

MixEngine::Worker* MixEngine::worker_of(LegId leg) const {
  std::lock_guard lock(legs_mutex_);
  auto it = leg_worker_.find(leg);
  return it == leg_worker_.end() ? nullptr : it->second;
}

bool MixEngine::has_leg(LegId leg) const { return worker_of(leg) != nullptr; }

LegId MixEngine::add_leg(const std::string& mix, std::unique_ptr<AudioStream> stream, const media::StreamTerms& terms) {
  LegId id = next_leg_++;
  auto leg = std::make_shared<std::unique_ptr<Leg>>(std::make_unique<Leg>());
  (*leg)->id = id;
  (*leg)->mix = mix;
  (*leg)->stream = std::move(stream);
  (*leg)->stream->set_terms(terms);
  (*leg)->started_ms = monotonic_ns() / 1000000ull;
  if (on_digit_) (*leg)->stream->on_digit = [this, id](char d) { on_digit_(id, d); };
  Worker& w = worker_for(mix);
  {
    std::lock_guard lock(legs_mutex_);
    leg_worker_[id] = &w;
  }
  w.post([leg](Worker& worker) { worker.attach(std::move(*leg)); });
  return id;
}

void MixEngine::remove_leg(LegId id) {
  Worker* w;
  {
    std::lock_guard lock(legs_mutex_);
    auto it = leg_worker_.find(id);
    if (it == leg_worker_.end()) return;
    w = it->second;
    leg_worker_.erase(it);
  }
  w->post([id](Worker& worker) { worker.detach(id); });
}

void MixEngine::move_leg(LegId id, const std::string& mix) {
  Worker* from = worker_of(id);
  if (!from) return;
  Worker& to = worker_for(mix);
  {
    std::lock_guard lock(legs_mutex_);
    leg_worker_[id] = &to;
  }
  from->post([id, mix, &to](Worker& worker) {
    auto leg = worker.detach(id);
    if (!leg) return;
    leg->mix = mix;
    if (&to == &worker) {
      worker.attach(std::move(leg));  // same thread: effective this very tick
      return;
    }
    auto holder = std::make_shared<std::unique_ptr<Leg>>(std::move(leg));
    to.post([holder](Worker& w) { w.attach(std::move(*holder)); });
  });
}

void MixEngine::set_terms(LegId id, const media::StreamTerms& terms) {
  if (Worker* w = worker_of(id))
    w->post([id, terms](Worker& worker) {
      auto it = worker.legs.find(id);
      if (it == worker.legs.end()) return;
      it->second->stream->set_terms(terms);
      it->second->timeout_reported = false;
      auto m = worker.mixes.find(it->second->mix);
      if (m != worker.mixes.end()) m->second.update_rate();
    });
}

void MixEngine::set_mute(LegId id, bool muted) {
  if (Worker* w = worker_of(id))
    w->post([id, muted](Worker& worker) {
      if (auto it = worker.legs.find(id); it != worker.legs.end()) it->second->muted = muted;
    });
}

void MixEngine::set_gain(LegId id, double gain_db) {
  gain_db = std::clamp(gain_db, -60.0, 12.0);
  int32_t q12 = static_cast<int32_t>(std::lround(std::pow(10.0, gain_db / 20.0) * 4096));
  if (Worker* w = worker_of(id))
    w->post([id, gain_db, q12](Worker& worker) {
      if (auto it = worker.legs.find(id); it != worker.legs.end()) {
        it->second->gain_db = gain_db;
        it->second->gain_q12 = q12;
      }
    });
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
          info.legs.push_back({l->id, l->mix, codec_name(t.codec), l->stream->local_port(), l->stream->target().str(), l->muted,
                               l->gain_db, t.send, t.receive, l->stream->stats()});
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
