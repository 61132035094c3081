// confab-conf-load: the load generator of bench/conference_joins.sh.
//
//   confab-conf-load --server 127.0.0.1:5080 --size 50 --rate R --seconds S [--listen 127.0.0.1:5300] [--hold H]
//
// Joins conferences at R joins/s for S seconds: join i INVITEs
// sip:bench<i/size>@server (From sip:u<i>@..., a sendonly PCMU offer with a
// dummy port, so no RTP flows either way), and once that is answered 200 it
// SUBSCRIBEs to the same URI (Event: conference). A join succeeds when the
// INVITE got 200 within 2 s, the SUBSCRIBE got 2xx and its first NOTIFY came
// within 2 s of the SUBSCRIBE; "dropped" counts joins whose call or
// subscription the server ended afterwards.
// With --hold H each join leaves (BYE, un-SUBSCRIBE) H s after it succeeded
// ("left" counts them), so joins and leaves run at the same rate (bench/soak.sh).
// Every NOTIFY received while the joins run (and 1 s after) is counted. The
// figures are printed (a "failures:" line by reason if any, then the result
// line), then all calls are hung up and all subscriptions dropped. The result:
//   joins=N ok=N failed=0 achieved_rate=R dropped=0 notifies=M notifies_per_join=X p50_ms=A p99_ms=B
// achieved_rate is ok joins over the time from the first INVITE to the last
// completed join, so a server that falls behind shows a rate below R.
// Never runs longer than S + 10 s.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/event_loop.h"
#include "sip/sdp.h"
#include "sip/user_agent.h"

using namespace confab;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTimeout = 2s;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Join {
  enum class State { Inviting, Subscribing, Ok, Failed };
  State state = State::Inviting;
  std::shared_ptr<sip::Call> call;
  std::unique_ptr<sip::Subscriber> sub;
  Clock::time_point invited, subscribed, joined;
  bool sub_ok = false, notified = false;
  bool left = false;  // it hung up and un-SUBSCRIBEd after --hold seconds
};

class Load : public sip::UserAgent::Handler, public sip::CallHandler, public sip::SubscriberHandler {
 public:
  Load(sip::EventLoop& loop, const std::string& server, const std::string& listen, int size)
      : server_(server), size_(size) {
    sip::UserAgentOptions opts;
    opts.listen.push_back(*sip::ListenSpec::parse("udp:" + listen));
    opts.identity = "sip:load@" + listen;
    opts.transaction_timeout_ms = 4000;
    host_ = listen;
    ua_ = std::make_unique<sip::UserAgent>(loop, opts, *this);
  }

  std::vector<Join> joins;
  std::vector<double> latencies_ms;  // INVITE sent -> 200
  std::map<std::string, int> failures;  // reason -> count
  uint64_t notifies = 0;
  bool counting = true, hanging_up = false;
  int ok = 0, failed = 0, dropped = 0;  // dropped: joined, then lost its call or subscription
  Clock::time_point last_ok{};

  void start_join() {
    size_t i = joins.size();
    joins.emplace_back();
    Join& j = joins.back();
    std::string offer = sip::make_audio_offer({{0, "PCMU", 8000, 1, ""}}, "127.0.0.1",
                                              static_cast<uint16_t>(40000 + i % 20000), sip::Direction::SendOnly)
                            .str();
    sip::CallOptions co;
    co.from = "sip:u" + std::to_string(i) + "@" + host_;
    j.invited = Clock::now();
    j.call = ua_->invite(conference_uri(i), offer, *this, co);
    by_call_[j.call->id()] = i;
  }

  // Fails every join whose INVITE or first NOTIFY is overdue.
  void check_timeouts(Clock::time_point now) {
    for (; first_open_ < joins.size(); ++first_open_) {
      Join& j = joins[first_open_];
      if (j.state != Join::State::Ok && j.state != Join::State::Failed) break;
    }
    for (size_t i = first_open_; i < joins.size(); ++i) {
      Join& j = joins[i];
      if (j.state == Join::State::Inviting && now - j.invited > kTimeout) fail(j, "invite_timeout");
      if (j.state == Join::State::Subscribing && now - j.subscribed > kTimeout)
        fail(j, j.sub_ok ? "notify_timeout" : "subscribe_timeout");
    }
  }

  bool all_resolved() const { return first_open_ == joins.size(); }

  void hang_up_all() {
    hanging_up = true;
    for (auto& j : joins) {
      j.sub.reset();  // un-SUBSCRIBE
      if (j.call && !j.call->terminated()) j.call->hangup();
    }
  }

  // With --hold: each join that has been in for `hold` leaves (BYE, un-SUBSCRIBE).
  void leave_due(Clock::time_point now, Clock::duration hold) {
    for (; next_leave_ < joins.size(); ++next_leave_) {
      Join& j = joins[next_leave_];
      if (j.state == Join::State::Failed) continue;
      if (j.state != Join::State::Ok || now - j.joined < hold) break;
      j.left = true;
      by_sub_.erase(j.sub.get());
      j.sub.reset();
      if (j.call && !j.call->terminated()) j.call->hangup();
      ++left;
    }
  }
  int left = 0;

  void shutdown(std::chrono::milliseconds timeout) { ua_->shutdown(timeout); }

  // ---- SIP events ----
  void on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest r) override { r.respond(603, "No"); }

  void on_invite_response(sip::Call& call, int status, const sip::Message&) override {
    if (status < 200) return;
    auto it = by_call_.find(call.id());
    if (it == by_call_.end()) return;
    Join& j = joins[it->second];
    if (j.state != Join::State::Inviting) return;
    if (status >= 300) return fail(j, "invite_" + std::to_string(status));
    auto now = Clock::now();
    latencies_ms.push_back(ms_between(j.invited, now));
    if (now - j.invited > kTimeout) return fail(j, "invite_timeout");
    j.state = Join::State::Subscribing;
    j.subscribed = now;
    j.sub = ua_->subscribe(conference_uri(it->second), "conference", 600, *this, "application/conference-info+xml");
    if (!j.sub) return fail(j, "subscribe_not_sent");
    by_sub_[j.sub.get()] = it->second;
  }

  void on_terminated(sip::Call& call, int status, std::string_view) override {
    if (hanging_up) return;
    auto it = by_call_.find(call.id());
    if (it == by_call_.end()) return;
    Join& j = joins[it->second];
    if (j.state == Join::State::Failed || j.left) return;
    // A rejected INVITE reports its status in on_invite_response first.
    if (j.state == Join::State::Ok) {
      ++dropped;
      ++failures["call_ended_after_join_" + std::to_string(status)];
    } else {
      fail(j, "terminated_" + std::to_string(status));
    }
  }

  void on_subscribe_response(sip::Subscriber& s, int status, std::string_view) override {
    Join* j = join_of(s);
    if (!j || j->state != Join::State::Subscribing) return;
    if (status >= 300) return fail(*j, "subscribe_" + std::to_string(status));
    if (status >= 200) {
      j->sub_ok = true;
      complete_if_done(*j);
    }
  }

  void on_notify(sip::Subscriber& s, const sip::Message&) override {
    if (counting) ++notifies;
    Join* j = join_of(s);
    if (!j || j->state != Join::State::Subscribing || j->notified) return;
    j->notified = true;
    complete_if_done(*j);
  }

  void on_ended(sip::Subscriber& s, int status, std::string_view) override {
    Join* j = join_of(s);
    if (hanging_up || !j) return;
    if (j->state == Join::State::Subscribing) {
      fail(*j, "subscription_ended_" + std::to_string(status));
    } else if (j->state == Join::State::Ok) {
      ++dropped;
      ++failures["subscription_ended_after_join_" + std::to_string(status)];
    }
  }

 private:
  std::string conference_uri(size_t i) const {
    return "sip:bench" + std::to_string(i / static_cast<size_t>(size_)) + "@" + server_;
  }

  Join* join_of(sip::Subscriber& s) {
    auto it = by_sub_.find(&s);
    return it == by_sub_.end() ? nullptr : &joins[it->second];
  }

  void complete_if_done(Join& j) {
    if (!j.sub_ok || !j.notified) return;
    auto now = Clock::now();
    if (now - j.subscribed > kTimeout) return fail(j, "notify_timeout");
    j.state = Join::State::Ok;
    j.joined = now;
    ++ok;
    last_ok = now;
  }

  void fail(Join& j, const std::string& why) {
    if (j.state == Join::State::Ok || j.state == Join::State::Failed) return;
    j.state = Join::State::Failed;
    ++failed;
    ++failures[why];
  }

  std::string server_, host_;
  int size_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unordered_map<std::string, size_t> by_call_;
  std::unordered_map<sip::Subscriber*, size_t> by_sub_;
  size_t first_open_ = 0, next_leave_ = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()))) - 1;
  return v[std::min(k, v.size() - 1)];
}

void on_watchdog(int) {
  static const char msg[] = "confab-conf-load: watchdog expired (seconds + 10 s), exiting\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"confab-conf-load: conference join load for bench/conference_joins.sh"};
  std::string server = "127.0.0.1:5080", listen = "127.0.0.1:5300";
  int size = 50;
  double rate = 100, seconds = 5, hold = 0;
  app.add_option("--server", server, "conference server HOST:PORT")->capture_default_str();
  app.add_option("--listen", listen, "our SIP address HOST:PORT (UDP)")->capture_default_str();
  app.add_option("--size", size, "participants per conference")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--rate", rate, "joins per second")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--seconds", seconds, "seconds of joining")->capture_default_str()->check(CLI::Range(0.1, 600.0));
  app.add_option("--hold", hold, "seconds each join stays before it leaves (0: until the end)")
      ->capture_default_str()->check(CLI::Range(0.0, 600.0));
  CLI11_PARSE(app, argc, argv);

  signal(SIGALRM, on_watchdog);
  alarm(static_cast<unsigned>(std::ceil(seconds)) + 10);

  sip::EventLoop loop;
  Load load(loop, server, listen, size);
  const size_t total = static_cast<size_t>(std::llround(rate * seconds));
  load.joins.reserve(total);
  const auto t0 = Clock::now();
  auto phase = [&](const char* what) {  // progress on stderr, for the benchmark's logs
    double at = std::chrono::duration<double>(Clock::now() - t0).count();
    std::fprintf(stderr, "%7.3f s %s: sent=%zu ok=%d failed=%d\n", at, what, load.joins.size(), load.ok, load.failed);
  };
  sip::Timer pace(loop);
  pace.every(10ms, [&] {
    auto now = Clock::now();
    double elapsed = std::chrono::duration<double>(now - t0).count();
    size_t due = std::min(total, static_cast<size_t>(rate * elapsed));
    while (load.joins.size() < due) load.start_join();
    load.check_timeouts(now);
    if (hold > 0) load.leave_due(now, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(hold)));
  });
  // Joins, then until each one succeeded or failed (at most 2 s + 2 s after the last).
  auto limit = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)) + 4500ms;
  while (!(load.joins.size() == total && load.all_resolved()) && Clock::now() < limit) loop.run_for(20ms);
  pace.cancel();
  phase("joins over");
  load.check_timeouts(Clock::now() + kTimeout + 1ms);  // what is still open now has timed out
  loop.run_for(1000ms);  // partial NOTIFYs still on their way
  load.counting = false;

  const double span = std::chrono::duration<double>(load.last_ok - t0).count();
  const double achieved = load.ok > 0 && span > 0 ? load.ok / span : 0;
  // The figures first: cleaning up below may be cut short by the watchdog.
  const size_t n = load.joins.size();
  if (!load.failures.empty()) {
    std::cout << "failures:";
    for (auto& [why, count] : load.failures) std::cout << " " << why << "=" << count;
    std::cout << "\n";
  }
  char line[320];
  std::snprintf(line, sizeof line,
                "joins=%zu ok=%d failed=%d achieved_rate=%.1f dropped=%d left=%d notifies=%llu notifies_per_join=%.1f "
                "p50_ms=%.1f p99_ms=%.1f",
                n, load.ok, load.failed + static_cast<int>(total - n), achieved, load.dropped, load.left,
                static_cast<unsigned long long>(load.notifies), n ? static_cast<double>(load.notifies) / n : 0.0,
                percentile(load.latencies_ms, 0.50), percentile(load.latencies_ms, 0.99));
  std::cout << line << std::endl;

  phase("counting over, hanging up");
  load.hang_up_all();
  loop.run_for(2000ms);  // BYEs and un-SUBSCRIBEs complete
  phase("shutting down");
  load.shutdown(1000ms);
  phase("done");
  return load.failed == 0 && load.dropped == 0 && n == total ? 0 : 1;
}
