#include "mixer/mix_worker.h"

#include <spdlog/spdlog.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>

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

}  // namespace

int32_t gain_q12(double gain_db) { return static_cast<int32_t>(std::lround(std::pow(10.0, gain_db / 20.0) * 4096)); }

const int16_t* MixEngine::Mix::heard_at(int to_rate, uint64_t tick) {
  if (to_rate == rate) return heard->full.data();
  auto it = std::find_if(heard->rates.begin(), heard->rates.end(), [&](const auto& r) { return r.rate == to_rate; });
  if (it == heard->rates.end()) it = heard->rates.insert(heard->rates.end(), Heard::AtRate{to_rate, nullptr});
  if (it->tick == tick) return it->frame.data();
  if (!it->resampler || it->resampler->in_rate() != rate)
    it->resampler = std::make_unique<media::Resampler>(rate, to_rate);  // new, or this mix's rate changed
  size_t n = it->resampler->process(heard->full.data(), media::frame_samples(rate), it->frame.data(), kMaxFrameSamples);
  // The resampler may hand out a sample more or less at the edges: pad or trim to a frame.
  for (size_t i = n; i < media::frame_samples(to_rate); ++i) it->frame[i] = i > 0 ? it->frame[i - 1] : 0;
  it->tick = tick;
  return it->frame.data();
}

MixEngine::Worker::Worker(MixEngine& e, int i) : engine(e), index(i), epoll_fd(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd < 0) throw std::runtime_error("epoll_create1 failed");
  thread = std::thread([this] { run(); });
}

MixEngine::Worker::~Worker() {
  stopping = true;
  if (thread.joinable()) thread.join();
  ::close(epoll_fd);
}

void MixEngine::Worker::drain() {
  std::vector<std::function<void(Worker&)>> batch;
  {
    std::lock_guard lock(mutex);
    batch.swap(commands);
  }
  for (auto& fn : batch) fn(*this);
  if (relink_due) relink();
}

// Only RTCP sockets are in the epoll set (epoll data: the leg); RTP is read every tick.
void MixEngine::Worker::attach(std::unique_ptr<Leg> leg) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = leg.get();
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, leg->stream->rtcp_fd(), &ev);
  auto& mix = mixes[leg->mix];
  mix.id = leg->mix;
  mix.legs.push_back(leg.get());
  mix.update_rate();
  if (!leg->links.empty()) listeners.push_back(leg.get());
  LegId id = leg->id;
  legs[id] = std::move(leg);
  leg_count = legs.size();
  mix_count = mixes.size();
  relink_due = true;
  auto waiting = arriving.extract(id);
  if (waiting.empty()) return;
  for (auto& fn : waiting.mapped()) {
    auto it = legs.find(id);
    if (it == legs.end()) break;  // removed, or moved on
    fn(*this, *it->second);
  }
}

void MixEngine::Worker::run_for_leg(LegId id, const LegCommand& fn) {
  if (auto it = legs.find(id); it != legs.end())
    fn(*this, *it->second);
  else if (auto a = arriving.find(id); a != arriving.end())
    a->second.push_back(fn);
}

std::unique_ptr<MixEngine::Leg> MixEngine::Worker::detach(LegId id) {
  auto it = legs.find(id);
  if (it == legs.end()) return nullptr;
  auto leg = std::move(it->second);
  legs.erase(it);
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, leg->stream->rtcp_fd(), nullptr);
  std::erase(listeners, leg.get());
  auto m = mixes.find(leg->mix);
  if (m != mixes.end()) {
    std::erase(m->second.legs, leg.get());
    if (m->second.legs.empty())
      mixes.erase(m);  // a mix ends with its last leg
    else
      m->second.update_rate();
  }
  leg->own = nullptr;
  for (auto& link : leg->links) link.target = nullptr;
  leg_count = legs.size();
  mix_count = mixes.size();
  relink_due = true;  // before the next mix: links may point at a mix just ended
  return leg;
}

void MixEngine::Worker::set_link(Leg& leg, const std::string& mix, std::optional<double> gain_db) {
  auto link = std::find_if(leg.links.begin(), leg.links.end(), [&](const Leg::Link& l) { return l.mix == mix; });
  if (!gain_db) {
    if (link != leg.links.end()) leg.links.erase(link);
  } else if (link != leg.links.end()) {
    link->gain_db = *gain_db;
    link->gain_q12 = gain_q12(*gain_db);
  } else {
    leg.links.push_back({mix, *gain_db, gain_q12(*gain_db)});
  }
  std::erase(listeners, &leg);
  if (!leg.links.empty()) listeners.push_back(&leg);
  relink_due = true;
}

// Resolves every listening leg's mix and links to mixes of this thread, and
// gives exactly the mixes involved what the tick's listening pass needs: their
// kept sum (a listener's own mix) or full mix (a listened mix).
void MixEngine::Worker::relink() {
  relink_due = false;
  if (listeners.empty() && !relinked_any) return;
  std::set<Mix*> keeps, heard;
  for (Leg* leg : listeners) {
    leg->own = &mixes.at(leg->mix);
    keeps.insert(leg->own);
    for (auto& link : leg->links) {
      auto m = mixes.find(link.mix);
      link.target = m == mixes.end() || &m->second == leg->own ? nullptr : &m->second;
      if (link.target) heard.insert(link.target);
    }
  }
  for (auto& [id, mix] : mixes) {
    if (!keeps.contains(&mix))
      mix.kept_sum.reset();
    else if (!mix.kept_sum)
      mix.kept_sum = std::make_unique<std::array<int32_t, kMaxFrameSamples>>();
    if (!heard.contains(&mix))
      mix.heard.reset();
    else if (!mix.heard)
      mix.heard = std::make_unique<Mix::Heard>();
  }
  relinked_any = !listeners.empty();
}

void MixEngine::Worker::run() {
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
// Legs listening to other mixes get theirs last, once every mix is summed.
void MixEngine::Worker::receive_and_mix(uint64_t now_ms) {
  for (auto& [id, mix] : mixes) {
    for (Leg* leg : mix.legs) leg->stream->receive(now_ms);
    mix_once(mix);
  }
  if (!listeners.empty()) send_to_listeners();
  epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epoll_fd, events, 64, 0);
    for (int i = 0; i < n; ++i) static_cast<Leg*>(events[i].data.ptr)->stream->drain_rtcp();
    if (n < 64) break;
  }
}

// RTP timeouts, and legs that latched onto their RTP's source (every 25 ticks).
void MixEngine::Worker::check_timeouts(uint64_t now_ms) {
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

void MixEngine::Worker::mix_once(Mix& mix) {
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
  if (mix.kept_sum) std::copy_n(sum.begin(), n, mix.kept_sum->begin());
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
    if (!terms.send || !leg->links.empty()) continue;  // a listening leg: send_to_listeners
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
  if (mix.heard) mix_saturate(mix.heard->full.data(), sum.data(), n);
}

// Each listening leg hears its own mix's N-1 plus, for each link, the listened
// mix's full mix of this same tick at the link's gain (at its own mix's rate),
// saturated once. Its own voice is in none of them: it is in no other mix.
void MixEngine::Worker::send_to_listeners() {
  const uint64_t tick = ticks.load(std::memory_order_relaxed);
  std::array<int32_t, kMaxFrameSamples> acc;
  std::array<int16_t, kMaxFrameSamples> out;
  for (Leg* leg : listeners) {
    if (!leg->own || !leg->own->kept_sum || !leg->stream->terms().send) continue;
    const int rate = leg->own->rate;
    const size_t n = media::frame_samples(rate);
    if (leg->contributed)
      mix_copy_minus(acc.data(), leg->own->kept_sum->data(), leg->frame.data(), n);
    else
      std::copy_n(leg->own->kept_sum->begin(), n, acc.begin());
    for (const auto& link : leg->links)
      if (link.target && link.target->heard)
        mix_add_scaled(acc.data(), link.target->heard_at(rate, tick), link.gain_q12, n);
    mix_saturate(out.data(), acc.data(), n);
    leg->stream->push(out.data(), rate);
    ++encodes;
  }
}

}  // namespace confab::mixer
