// confab-web-load: the viewers of bench/web_viewers.sh.
//
//   confab-web-load --web 127.0.0.1:8480 --conference-admin 127.0.0.1:5481 --sip 127.0.0.1:5400
//                   --viewers N --pages P --rate R --seconds S [--admin-token-file F]
//
// N viewers over P pages (/bench/p0 .. /bench/p<P-1>, viewer i starts on page
// i % P). Each viewer is what a visitor with a client service is to the servers:
// a SIP participant in the page's conference (this tool's user agent INVITEs the
// conference that `confab web` names for the page, From sip:v<i>@bench.invalid,
// a sendonly offer with a dummy port, so no RTP flows) and a WebSocket on the
// site's /_confab/roster for the page (one Boost.Beast client each, all on one
// I/O thread). Once every viewer's call is up and every page's viewers see all
// of them, R viewers a second move, for S seconds: viewer v moving from page X
// to page Y INVITEs Y's conference, and on its 200 hangs up X's (what the client
// service's SameDeviceJoin does to the conference), and its WebSocket leaves X
// and opens on Y (the page navigation). A move is complete when every viewer of
// X has a roster without v and every viewer of Y one with v; its time is from
// the INVITE to that moment. A viewer is never moved again before its move is
// complete. Prints (progress goes to stderr):
//   viewers=N pages=P moves=M completed=C failed=F seconds=S moves_per_s=X p50_ms=A p99_ms=B max_ms=D
//   pushes_per_move=Q notifies_per_move=T viewers_per_move=V
// pushes_per_move: roster messages the viewers received over the moves;
// notifies_per_move: NOTIFYs the conference server sent (its admin API's
// notifies_sent, summed over the conferences); viewers_per_move: the viewers
// of the two pages, averaged over the moves (pushes should be linear in it).
// Exits 0 when every viewer joined and every move completed. Never runs longer
// than 30 + S + 15 s.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/host_port.h"
#include "http/http_client.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

using namespace confab;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string viewer_uri(size_t v) { return "sip:v" + std::to_string(v) + "@bench.invalid"; }
std::string page_path(size_t p) { return "/bench/p" + std::to_string(p); }

// ---- the viewers' WebSockets and the moves' completion, all on one I/O thread ----

struct RosterSocket {
  RosterSocket(asio::io_context& io, size_t v, size_t p) : ws(io), viewer(v), page(p) {}
  websocket::stream<beast::tcp_stream> ws;
  size_t viewer, page;
  beast::flat_buffer in;
  bool open = false, closing = false, seen = false;  // seen: a roster arrived
  std::set<std::string> members;
};

struct Move {
  size_t viewer, from, to;
  Clock::time_point started;
  size_t viewers;  // of both pages when it started
};

class Viewers {
 public:
  Viewers(asio::io_context& io, tcp::endpoint web, size_t viewers, size_t pages)
      : io_(io), web_(web), by_page_(pages), socket_of_(viewers) {}

  // On the I/O thread.
  void open(size_t viewer, size_t page);
  void start_move(size_t viewer, size_t from, size_t to);
  void close_all();

  // Every viewer's socket open and seeing every viewer of its page.
  bool settled(const std::vector<size_t>& page_of);

  std::atomic<uint64_t> pushes{0};
  std::atomic<size_t> failures{0};
  std::mutex done_mutex;
  std::vector<double> move_ms;
  std::vector<size_t> move_viewers;
  std::function<void(size_t viewer)> on_complete;  // runs on the I/O thread
  std::string first_error;

 private:
  void read(std::shared_ptr<RosterSocket> s);
  void on_roster(RosterSocket& s, const std::string& text);
  void check_moves(size_t page);
  bool complete(const Move& m) const;
  void fail(const std::string& what);

  asio::io_context& io_;
  tcp::endpoint web_;
  std::vector<std::set<RosterSocket*>> by_page_;
  std::vector<std::shared_ptr<RosterSocket>> socket_of_;  // by viewer
  std::deque<Move> moves_;
  bool shutting_down_ = false;
};

void Viewers::open(size_t viewer, size_t page) {
  auto s = std::make_shared<RosterSocket>(io_, viewer, page);
  socket_of_[viewer] = s;
  by_page_[page].insert(s.get());
  beast::get_lowest_layer(s->ws).async_connect(web_, [this, s](beast::error_code ec) {
    if (ec) return fail("connect: " + ec.message());
    s->ws.async_handshake(web_.address().to_string() + ":" + std::to_string(web_.port()),
                          "/_confab/roster?path=" + page_path(s->page), [this, s](beast::error_code ec) {
                            if (ec) return fail("handshake: " + ec.message());
                            s->open = true;
                            read(s);
                          });
  });
}

// Each pending read keeps its socket alive, also after a move replaced it.
void Viewers::read(std::shared_ptr<RosterSocket> keep) {
  RosterSocket& ref = *keep;
  ref.ws.async_read(ref.in, [this, keep](beast::error_code ec, size_t) {
    RosterSocket& s = *keep;
    if (ec) {
      s.open = false;
      if (!s.closing && !shutting_down_) fail("viewer " + std::to_string(s.viewer) + " closed: " + ec.message());
      return;
    }
    std::string text = beast::buffers_to_string(s.in.data());
    s.in.consume(s.in.size());
    if (!s.closing) on_roster(s, text);
    read(keep);
  });
}

void Viewers::on_roster(RosterSocket& s, const std::string& text) {
  ++pushes;
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object() || !v.as_object().contains("members")) return fail("not a roster: " + text.substr(0, 120));
  s.members.clear();
  for (auto& m : v.at("members").as_array())
    if (m.is_object() && m.as_object().contains("uri")) s.members.insert(std::string(m.at("uri").as_string()));
  s.seen = true;
  check_moves(s.page);
}

bool Viewers::complete(const Move& m) const {
  std::string who = viewer_uri(m.viewer);
  for (auto* s : by_page_[m.from])
    if (!s->seen || s->members.count(who)) return false;
  for (auto* s : by_page_[m.to])
    if (!s->seen || !s->members.count(who)) return false;
  return true;
}

void Viewers::check_moves(size_t page) {
  auto now = Clock::now();
  for (auto it = moves_.begin(); it != moves_.end();) {
    if ((it->from == page || it->to == page) && complete(*it)) {
      {
        std::lock_guard lock(done_mutex);
        move_ms.push_back(ms_between(it->started, now));
        move_viewers.push_back(it->viewers);
      }
      size_t viewer = it->viewer;
      it = moves_.erase(it);
      if (on_complete) on_complete(viewer);
    } else {
      ++it;
    }
  }
}

void Viewers::start_move(size_t viewer, size_t from, size_t to) {
  // The page navigation: the old page's socket closes, the new page's opens.
  if (auto old = socket_of_[viewer]) {
    by_page_[old->page].erase(old.get());
    old->closing = true;
    if (old->open) old->ws.async_close(websocket::close_code::going_away, [old](beast::error_code) {});
  }
  moves_.push_back({viewer, from, to, Clock::now(), by_page_[from].size() + by_page_[to].size() + 1});
  open(viewer, to);
  check_moves(from);  // the page left may have nobody else watching
}

bool Viewers::settled(const std::vector<size_t>& page_of) {
  std::vector<std::set<std::string>> expected(by_page_.size());
  for (size_t v = 0; v < page_of.size(); ++v) expected[page_of[v]].insert(viewer_uri(v));
  for (size_t p = 0; p < by_page_.size(); ++p)
    for (auto* s : by_page_[p])
      if (!s->open || !s->seen || s->members != expected[p]) return false;
  return true;
}

void Viewers::close_all() {
  shutting_down_ = true;
  for (auto& s : socket_of_)
    if (s && s->open) s->ws.async_close(websocket::close_code::normal, [s](beast::error_code) {});
}

void Viewers::fail(const std::string& what) {
  ++failures;
  std::lock_guard lock(done_mutex);
  if (first_error.empty()) first_error = what;
}

// ---- the viewers' calls, on the SIP thread ----

const char* kOffer =
    "v=0\r\no=bench 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 9 RTP/AVP 0\r\na=sendonly\r\n";

class Calls final : public sip::UserAgent::Handler, public sip::CallHandler {
 public:
  Calls(sip::EventLoop& loop, const std::string& listen, size_t viewers) : current_(viewers) {
    sip::UserAgentOptions o;
    auto hp = base::parse_host_port(listen, "--sip");
    o.listen = {{"udp", hp.host, hp.port}};
    o.user_agent = "confab-web-load";
    ua_ = std::make_unique<sip::UserAgent>(loop, o, *this);
  }
  ~Calls() override {
    for (auto& c : current_)
      if (c) c->hangup();
  }

  // Joins `conference`; hangs up the viewer's previous call once this one is answered.
  void join(size_t viewer, const std::string& conference) {
    sip::CallOptions options;
    options.from = viewer_uri(viewer);
    auto call = ua_->invite(conference, kOffer, *this, options);
    if (!call) {
      ++failed;
      return;
    }
    viewer_of_[call.get()] = viewer;
    pending_[call.get()] = call;
  }
  sip::UserAgent& ua() { return *ua_; }

  size_t up = 0, failed = 0;

 private:
  void on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest invite) override {
    invite.respond(403, "Forbidden");
  }
  void on_invite_response(sip::Call& call, int status, const sip::Message&) override {
    if (status < 200) return;
    auto it = pending_.find(&call);
    if (it == pending_.end()) return;
    auto self = it->second;
    pending_.erase(it);
    if (status >= 300) {
      ++failed;
      std::cerr << "join failed: " << status << "\n";
      return;
    }
    size_t v = viewer_of_[&call];
    if (current_[v]) current_[v]->hangup();
    else ++up;
    current_[v] = self;
  }
  void on_terminated(sip::Call& call, int, std::string_view) override {
    pending_.erase(&call);
    viewer_of_.erase(&call);
  }

  std::unique_ptr<sip::UserAgent> ua_;
  std::vector<std::shared_ptr<sip::Call>> current_;  // by viewer
  std::unordered_map<sip::Call*, std::shared_ptr<sip::Call>> pending_;
  std::unordered_map<sip::Call*, size_t> viewer_of_;
};

// ---- the site's and the conference server's HTTP answers ----

http::ClientResponse get(asio::io_context& io, const base::HostPort& at, const std::string& target,
                         const std::string& token = "") {
  http::ClientRequest r;
  r.host = at.host;
  r.port = at.port;
  r.target = target;
  if (!token.empty()) r.headers.push_back({"Authorization", "Bearer " + token});
  std::promise<http::ClientResponse> answer;
  http::send_request(io, r, [&](http::ClientResponse a) { answer.set_value(std::move(a)); });
  return answer.get_future().get();
}

uint64_t notifies_sent(asio::io_context& io, const base::HostPort& admin, const std::string& token) {
  auto r = get(io, admin, "/conferences", token);
  if (r.status != 200) throw std::runtime_error("conference admin API: " + r.error());
  uint64_t total = 0;
  json::value answer = json::parse(r.body);
  for (auto& c : answer.at("conferences").as_array())
    total += c.at("notifies_sent").to_number<uint64_t>();
  return total;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

template <class Fn>
bool wait_for(Fn ready, std::chrono::seconds limit) {
  auto until = Clock::now() + limit;
  while (Clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ready();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"viewers moving between the pages of a confab web site"};
  std::string web = "127.0.0.1:8480", admin = "127.0.0.1:5481", listen = "127.0.0.1:5400", token_file;
  size_t viewers = 1000, pages = 50;
  double rate = 100, seconds = 10;
  app.add_option("--web", web, "confab web's HOST:PORT");
  app.add_option("--conference-admin", admin, "the conference server's admin API HOST:PORT");
  app.add_option("--admin-token-file", token_file, "its token");
  app.add_option("--sip", listen, "this tool's SIP HOST:PORT");
  app.add_option("--viewers", viewers)->check(CLI::Range(1, 20000));
  app.add_option("--pages", pages)->check(CLI::Range(2, 1000));
  app.add_option("--rate", rate, "moves per second")->check(CLI::Range(0.1, 10000.0));
  app.add_option("--seconds", seconds)->check(CLI::Range(1.0, 600.0));
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);
  std::string token;
  if (!token_file.empty()) std::getline(std::ifstream(token_file), token);
  auto web_at = base::parse_host_port(web, "--web"), admin_at = base::parse_host_port(admin, "--conference-admin");

  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  auto finish = [&](int code) {
    work.reset();
    io.stop();
    io_thread.join();
    return code;
  };

  // Each page's conference, as the site names it.
  std::vector<std::string> conference(pages);
  for (size_t p = 0; p < pages; ++p) {
    auto r = get(io, web_at, "/_confab/page?path=" + page_path(p));
    if (r.status != 200) {
      std::cerr << "GET /_confab/page?path=" << page_path(p) << ": " << r.error() << "\n";
      return finish(1);
    }
    conference[p] = std::string(json::parse(r.body).at("conference").as_string());
  }

  sip::EventLoop loop;
  Calls calls(loop, listen, viewers);
  Viewers watchers(io, tcp::endpoint(asio::ip::make_address(web_at.host), web_at.port), viewers, pages);
  std::vector<size_t> page_of(viewers);
  for (size_t v = 0; v < viewers; ++v) page_of[v] = v % pages;

  // Join: calls at 200/s, sockets all at once.
  asio::post(io, [&] {
    for (size_t v = 0; v < viewers; ++v) watchers.open(v, page_of[v]);
  });
  auto join_until = Clock::now() + 30s;
  for (size_t v = 0; v < viewers; ++v) {
    calls.join(v, conference[page_of[v]]);
    loop.run_for(5ms);
  }
  while (Clock::now() < join_until && calls.up + calls.failed < viewers) loop.run_for(20ms);
  auto settled = [&] {
    std::promise<bool> p;
    asio::post(io, [&] { p.set_value(watchers.settled(page_of)); });
    return p.get_future().get();
  };
  while (Clock::now() < join_until && !settled()) loop.run_for(50ms);
  if (calls.up < viewers || !settled()) {
    std::cerr << "only " << calls.up << " of " << viewers << " calls up, rosters "
              << (settled() ? "settled" : "not settled") << " after 30 s: " << watchers.first_error << "\n";
    return finish(1);
  }
  std::cerr << "all " << viewers << " viewers in, moving " << rate << "/s for " << seconds << " s\n";

  // Moves: R a second, each by a viewer not moving now, to another page.
  std::mutex moving_mutex;
  std::set<size_t> moving;
  watchers.on_complete = [&](size_t v) {
    std::lock_guard lock(moving_mutex);
    moving.erase(v);
  };
  uint64_t notifies_before = notifies_sent(io, admin_at, token), pushes_before = watchers.pushes;
  std::mt19937_64 random(7);
  std::uniform_int_distribution<size_t> any_viewer(0, viewers - 1), other_page(1, pages - 1);
  size_t started = 0;
  auto begin = Clock::now(), end = begin + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    auto due = begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(started / rate));
    if (Clock::now() < due) {
      loop.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now()) + 1ms);
      continue;
    }
    size_t v = any_viewer(random);
    {
      std::lock_guard lock(moving_mutex);
      if (moving.count(v)) continue;
      moving.insert(v);
    }
    size_t from = page_of[v], to = (from + other_page(random)) % pages;
    page_of[v] = to;
    asio::post(io, [&watchers, v, from, to] { watchers.start_move(v, from, to); });
    calls.join(v, conference[to]);
    ++started;
  }
  auto drain_until = Clock::now() + 10s;
  auto all_done = [&] {
    std::lock_guard lock(moving_mutex);
    return moving.empty();
  };
  while (Clock::now() < drain_until && !all_done()) loop.run_for(20ms);
  double elapsed = std::chrono::duration<double>(Clock::now() - begin).count();
  uint64_t notifies = notifies_sent(io, admin_at, token) - notifies_before, pushes = watchers.pushes - pushes_before;

  std::vector<double> ms;
  double viewers_per_move = 0;
  {
    std::lock_guard lock(watchers.done_mutex);
    ms = watchers.move_ms;
    for (auto n : watchers.move_viewers) viewers_per_move += n;
    if (!watchers.move_viewers.empty()) viewers_per_move /= watchers.move_viewers.size();
  }
  size_t completed = ms.size(), moves = std::max<size_t>(started, 1);
  std::printf(
      "viewers=%zu pages=%zu moves=%zu completed=%zu failed=%zu seconds=%.1f moves_per_s=%.1f p50_ms=%.1f "
      "p99_ms=%.1f max_ms=%.1f\npushes_per_move=%.1f notifies_per_move=%.1f viewers_per_move=%.1f\n",
      viewers, pages, started, completed, calls.failed + watchers.failures, elapsed, completed / elapsed,
      percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0), double(pushes) / moves,
      double(notifies) / moves, viewers_per_move);
  {
    std::lock_guard lock(watchers.done_mutex);
    if (!watchers.first_error.empty()) std::cerr << "first error: " << watchers.first_error << "\n";
  }
  std::fflush(stdout);
  asio::post(io, [&] { watchers.close_all(); });
  loop.run_for(200ms);
  bool ok = completed == started && calls.failed == 0 && watchers.failures == 0;
  return finish(ok ? 0 : 1);
}
