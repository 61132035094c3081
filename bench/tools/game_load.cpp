// confab-game-load: the players of bench/game_crossings.sh.
//
//   confab-game-load --game 127.0.0.1:8481 --players N --sip 127.0.0.1:5400 --rtp-port 43000
//                    --seconds S [--warmup W] [--join-rate R]
//                    [--walker SIP-URI --walk X1,Y1,X2,Y2 --walk-pause-ms 1500]
//                    [--pid game=PID --pid conference=PID --pid mixer=PID]
//
// N players join the game over its WebSocket (ws://HOST:PORT/ws, one Boost.Beast
// client each, all on one thread), player i as sip:p<i>@<--sip>. This tool's SIP
// user agent answers the conference server's dial-out INVITEs for all of them
// (offerless: our offer in the 200, the mixer's answer in the ACK), and one RTP
// thread sends every leg a 20 ms PCMU frame every 20 ms (a quiet low tone) and
// drains what the mixer sends back to the one port all our SDPs name. Once every
// player has its leg, each walks to a random point of the world and to another
// every 1-3 s; a walker (a phone's address, see the bench) goes back and forth
// between two points. After W s of warm-up, S s are measured: the game's
// GET /metrics and the CPU times of the --pid processes and of this one ("load")
// before and after (/proc: the whole process, and its main thread, which is the
// SIP thread of every Confab part). Prints "measuring for S s" when the window
// opens, then the result (progress goes to stderr):
//   players=N joined=N legs=N crossings=C moves=M move_failures=F seconds=S crossings_per_s=X
//   moves_per_s=Y move_p50_ms=A move_p99_ms=B move_max_ms=D reinvites=0 redials=0 legs_ended=0 rtp_in_per_s=R
//   cpu NAME=pct:P main_pct:Q ms_per_crossing:T main_ms_per_crossing:U   (one line per process)
// legs: players whose call has media now; reinvites: re-INVITEs the players got
// (a move makes none); redials: players dialled again while their call was up;
// legs_ended: calls of players that ended. The players' state messages are read
// and dropped (only welcome and error are looked at). Exits 0 when every player
// joined and kept its leg and the counters were read. Never runs longer than the
// join timeout + W + S + 20 s.
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "loopback_udp.h"
#include "http/http_client.h"
#include "media/codec.h"
#include "media/rtp.h"
#include "sip/event_loop.h"
#include "sip/sdp.h"
#include "sip/uri.h"
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

const sip::SdpFormat kPcmu{0, "PCMU", 8000, 1, ""};

// ---- RTP: one 20 ms PCMU frame per leg per tick, from one thread ----

// A quiet tone (-50 dBFS, 150-300 Hz by leg, so legs are not in phase): far
// below and away from the tones bench/game_crossings.sh listens for.
std::vector<uint8_t> quiet_frame(int variant) {
  auto enc = media::make_encoder(media::Codec::Pcmu);
  std::vector<int16_t> pcm(160);
  double hz = 150 + 50 * variant;  // whole cycles in 20 ms: the repeated frame is a continuous tone
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<int16_t>(100 * std::sin(2 * M_PI * hz * i / 8000));
  std::vector<uint8_t> out(400);
  out.resize(enc->encode(pcm.data(), out.data(), out.size()));
  return out;
}

// Every leg's RTP: the SIP thread says where each leg sends (set/clear), the
// RTP thread sends and drains on a 20 ms clock.
class RtpLegs {
 public:
  RtpLegs(uint16_t rx_port, size_t legs)
      : tx_(bench::loopback_udp_socket(0, 8 << 20)),
        rx_(bench::loopback_udp_socket(rx_port, 8 << 20)),
        wanted_(legs),
        thread_([this] { run(); }) {}
  ~RtpLegs() {
    done_ = true;
    thread_.join();
    ::close(tx_);
    ::close(rx_);
  }
  void set(size_t leg, const std::string& address, uint16_t port) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &to.sin_addr) != 1) return;
    std::lock_guard lock(mutex_);
    wanted_[leg] = to;
    ++version_;
  }
  void clear(size_t leg) {
    std::lock_guard lock(mutex_);
    wanted_[leg].reset();
    ++version_;
  }
  uint64_t received() const { return received_; }

 private:
  struct Target {
    std::optional<sockaddr_in> to;
    uint16_t seq = 0;
    uint32_t ts = 0;
  };
  void run();
  void send_tick(std::vector<Target>& targets);
  void drain();

  int tx_, rx_;
  std::mutex mutex_;
  std::vector<std::optional<sockaddr_in>> wanted_;  // by leg
  uint64_t version_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> received_{0};
  std::vector<std::vector<uint8_t>> frames_ = {quiet_frame(0), quiet_frame(1), quiet_frame(2), quiet_frame(3)};
  std::vector<uint8_t> rx_buffers_ = std::vector<uint8_t>(64 * 1500);
  std::thread thread_;
};

void RtpLegs::run() {
  std::vector<Target> targets(wanted_.size());
  uint64_t seen = 0;
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!done_) {
    {
      std::lock_guard lock(mutex_);
      if (version_ != seen) {
        for (size_t i = 0; i < targets.size(); ++i) targets[i].to = wanted_[i];
        seen = version_;
      }
    }
    send_tick(targets);
    drain();
    next.tv_nsec += 20000000;
    if (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      ++next.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
}

void RtpLegs::send_tick(std::vector<Target>& targets) {
  std::vector<uint8_t> packets(targets.size() * 256);
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iov(targets.size());
  msgs.reserve(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    Target& t = targets[i];
    if (!t.to) continue;
    media::RtpHeader h;
    h.sequence = t.seq++;
    h.timestamp = t.ts;
    h.ssrc = 0x30000000u + static_cast<uint32_t>(i);
    t.ts += 160;
    const auto& frame = frames_[i % frames_.size()];
    size_t len = media::write_rtp(h, frame.data(), frame.size(), &packets[i * 256], 256);
    iov[i] = {&packets[i * 256], len};
    mmsghdr m{};
    m.msg_hdr.msg_name = &*t.to;
    m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
    m.msg_hdr.msg_iov = &iov[i];
    m.msg_hdr.msg_iovlen = 1;
    msgs.push_back(m);
  }
  for (size_t off = 0; off < msgs.size();) {
    int n = sendmmsg(tx_, &msgs[off], static_cast<unsigned>(std::min<size_t>(1024, msgs.size() - off)), 0);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

void RtpLegs::drain() {
  std::vector<uint8_t>& bufs = rx_buffers_;
  mmsghdr msgs[64];
  iovec iov[64];
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      iov[i] = {bufs.data() + i * 1500, 1500};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(rx_, msgs, 64, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    received_ += static_cast<uint64_t>(n);
  }
}

// ---- SIP: the players' phones, all user parts on one port ----

class Answerer final : public sip::UserAgent::Handler, public sip::CallHandler {
 public:
  Answerer(sip::EventLoop& loop, const std::string& listen, uint16_t rtp_port, RtpLegs& rtp, size_t players)
      : rtp_(rtp), rtp_port_(rtp_port), up_(players) {
    sip::UserAgentOptions o;
    o.listen.push_back(*sip::ListenSpec::parse("udp:" + listen));
    o.identity = "sip:players@" + listen;
    host_ = listen.substr(0, listen.rfind(':'));
    offer_ = sip::make_audio_offer({kPcmu}, host_, rtp_port_).str();
    ua_ = std::make_unique<sip::UserAgent>(loop, o, *this);
  }
  size_t legs() const { return legs_; }
  uint64_t reinvites() const { return reinvites_; }
  uint64_t ended() const { return ended_; }
  uint64_t redials() const { return redials_; }
  void shutdown() { ua_->shutdown(500ms); }

  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override {
    auto player = player_of(invite.message());
    if (!player) return invite.respond(404, "Not Found");
    call->set_handler(this);
    calls_[call.get()] = *player;
    if (current_[*player]) ++redials_;  // called again while its leg is up: the new call is the leg
    current_[*player] = call.get();
    answer(*player, invite);
  }
  void on_reinvite(sip::Call& call, sip::IncomingRequest request) override {
    ++reinvites_;  // the game's moves never re-INVITE: counted to show it
    auto it = calls_.find(&call);
    if (it == calls_.end()) return request.respond(481, "Call/Transaction Does Not Exist");
    answer(it->second, request);
  }
  void on_ack(sip::Call& call, const sip::Message& ack) override {
    auto it = calls_.find(&call);
    auto sdp = sip::SessionDescription::parse(ack.body());
    if (it != calls_.end() && sdp && sdp->audio()) start(it->second, sdp->address_of(*sdp->audio()), sdp->audio()->port);
  }
  void on_terminated(sip::Call& call, int status, std::string_view reason) override {
    auto it = calls_.find(&call);
    if (it == calls_.end()) return;
    if (up_[it->second] && current_[it->second] == &call) {
      rtp_.clear(it->second);
      up_[it->second] = false;
      --legs_;
      ++ended_;
      ++ended_why_[std::to_string(status) + " " + std::string(reason)];
    }
    if (current_[it->second] == &call) current_[it->second] = nullptr;
    calls_.erase(it);
  }
  // Why legs ended ("200 Session Terminated": a BYE), for the log.
  std::string ended_why() const {
    std::string out;
    for (auto& [why, n] : ended_why_) out += (out.empty() ? "" : ", ") + std::to_string(n) + " x " + why;
    return out;
  }

 private:
  // "p<i>" in the Request-URI.
  std::optional<size_t> player_of(const sip::Message& invite) const {
    auto uri = sip::Uri::parse(invite.request_uri());
    if (!uri || uri->user().size() < 2 || uri->user()[0] != 'p') return std::nullopt;
    size_t i = std::strtoul(uri->user().c_str() + 1, nullptr, 10);
    return i < up_.size() ? std::optional<size_t>(i) : std::nullopt;
  }
  // An offer is answered (and its address used); none gets our offer, answered in the ACK.
  void answer(size_t player, sip::IncomingRequest& request) {
    std::string_view body = request.message().body();
    if (body.empty()) return request.respond(200, "OK", {}, "application/sdp", offer_);
    auto offer = sip::SessionDescription::parse(body);
    auto a = offer ? sip::answer_offer(*offer, {kPcmu}, host_, rtp_port_) : std::nullopt;
    if (!a) return request.respond(488, "Not Acceptable Here");
    start(player, a->terms.remote_address, a->terms.remote_port);
    request.respond(200, "OK", {}, "application/sdp", a->sdp.str());
  }
  void start(size_t player, const std::string& address, uint16_t port) {
    rtp_.set(player, address, port);
    if (!up_[player]) {
      up_[player] = true;
      ++legs_;
    }
  }

  RtpLegs& rtp_;
  uint16_t rtp_port_;
  std::string host_, offer_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unordered_map<sip::Call*, size_t> calls_;
  std::vector<bool> up_;  // by player: its leg has media
  std::vector<sip::Call*> current_ = std::vector<sip::Call*>(up_.size());  // by player: its latest call
  std::map<std::string, uint64_t> ended_why_;
  size_t legs_ = 0;
  uint64_t reinvites_ = 0, ended_ = 0, redials_ = 0;
};

// ---- the players' WebSockets, all on one I/O thread ----

struct Player {
  Player(asio::io_context& io, std::string n, std::string s) : ws(io), timer(io), name(std::move(n)), sip(std::move(s)) {}
  websocket::stream<beast::tcp_stream> ws;
  asio::steady_timer timer;
  std::string name, sip;
  beast::flat_buffer in;
  std::deque<std::string> out;
  bool joined = false, open = false;
  std::vector<std::pair<double, double>> walk;  // the walker's two points; empty: wanders at random
  size_t step = 0;
};

class Crowd {
 public:
  Crowd(asio::io_context& io, tcp::endpoint game, std::mt19937_64::result_type seed)
      : io_(io), game_(game), random_(seed) {}

  // On the I/O thread: connects and joins.
  void add(std::string name, std::string sip, std::vector<std::pair<double, double>> walk = {});
  // On the I/O thread: every player starts walking; the walker every `pause`.
  void wander(std::chrono::milliseconds pause);
  void close_all();

  std::atomic<size_t> welcomed{0}, refused{0}, dropped{0};  // welcomed: the walker too
  std::atomic<bool> walker_welcomed{false};
  std::atomic<uint64_t> messages{0};
  std::mutex error_mutex;
  std::string first_error;

 private:
  void on_read(Player& p, beast::error_code ec);
  void send(Player& p, std::string text);
  void write_next(Player& p);
  void walk_on(Player& p, std::chrono::milliseconds pause);
  void fail(Player& p, const std::string& what);

  asio::io_context& io_;
  tcp::endpoint game_;
  std::mt19937_64 random_;
  std::vector<std::unique_ptr<Player>> players_;
  double width_ = 0, height_ = 0;  // from the first welcome
  bool closing_ = false;
};

std::string join_message(const Player& p) {
  return json::serialize(json::object{{"type", "join"}, {"name", p.name}, {"sip", p.sip}});
}

std::string goto_message(double x, double y) {
  char text[96];
  std::snprintf(text, sizeof text, R"({"type":"goto","x":%.2f,"y":%.2f})", x, y);
  return text;
}

void Crowd::add(std::string name, std::string sip, std::vector<std::pair<double, double>> walk) {
  players_.push_back(std::make_unique<Player>(io_, std::move(name), std::move(sip)));
  Player& p = *players_.back();
  p.walk = std::move(walk);
  beast::get_lowest_layer(p.ws).async_connect(game_, [this, &p](beast::error_code ec) {
    if (ec) return fail(p, "connect: " + ec.message());
    beast::get_lowest_layer(p.ws).socket().set_option(tcp::no_delay(true));
    p.ws.async_handshake(game_.address().to_string() + ":" + std::to_string(game_.port()), "/ws",
                         [this, &p](beast::error_code ec) {
                           if (ec) return fail(p, "handshake: " + ec.message());
                           p.open = true;
                           p.ws.text(true);
                           send(p, join_message(p));
                           p.ws.async_read(p.in, [this, &p](beast::error_code ec, size_t) { on_read(p, ec); });
                         });
  });
}

// Only the first message (welcome or error) is looked at; states are counted and dropped.
void Crowd::on_read(Player& p, beast::error_code ec) {
  if (ec) {
    p.open = false;
    if (!closing_) fail(p, "closed: " + ec.message());
    return;
  }
  ++messages;
  if (!p.joined) {
    std::string text = beast::buffers_to_string(p.in.data());
    if (text.rfind(R"({"type":"welcome")", 0) == 0) {
      p.joined = true;
      ++welcomed;
      if (!p.walk.empty()) walker_welcomed = true;
      if (width_ == 0) {
        auto world = json::parse(text).at("world");
        width_ = world.at("width").to_number<double>();
        height_ = world.at("height").to_number<double>();
      }
    } else if (text.rfind(R"({"type":"error")", 0) == 0) {
      ++refused;
      fail(p, text);
    }
  }
  p.in.consume(p.in.size());
  p.ws.async_read(p.in, [this, &p](beast::error_code ec, size_t) { on_read(p, ec); });
}

void Crowd::fail(Player& p, const std::string& what) {
  if (p.joined) ++dropped;
  std::lock_guard lock(error_mutex);
  if (first_error.empty()) first_error = p.name + ": " + what;
}

void Crowd::send(Player& p, std::string text) {
  if (!p.open) return;
  p.out.push_back(std::move(text));
  if (p.out.size() == 1) write_next(p);
}

void Crowd::write_next(Player& p) {
  p.ws.async_write(asio::buffer(p.out.front()), [this, &p](beast::error_code ec, size_t) {
    p.out.pop_front();
    if (ec) return p.out.clear();
    if (!p.out.empty()) write_next(p);
  });
}

void Crowd::wander(std::chrono::milliseconds pause) {
  std::uniform_int_distribution<int> first_ms(0, 1000);
  for (auto& p : players_) {
    if (!p->joined) continue;
    p->timer.expires_after(std::chrono::milliseconds(p->walk.empty() ? first_ms(random_) : 0));
    p->timer.async_wait([this, &p = *p, pause](beast::error_code ec) {
      if (!ec) walk_on(p, pause);
    });
  }
}

// A wanderer heads for a random point, and for another 1-3 s later; the walker alternates its two points.
void Crowd::walk_on(Player& p, std::chrono::milliseconds pause) {
  if (!p.open || closing_) return;
  std::chrono::milliseconds next = pause;
  if (p.walk.empty()) {
    std::uniform_real_distribution<double> x(0, width_), y(0, height_);
    std::uniform_int_distribution<int> ms(1000, 3000);
    send(p, goto_message(x(random_), y(random_)));
    next = std::chrono::milliseconds(ms(random_));
  } else {
    auto [x, y] = p.walk[p.step++ % p.walk.size()];
    send(p, goto_message(x, y));
  }
  p.timer.expires_after(next);
  p.timer.async_wait([this, &p, pause](beast::error_code ec) {
    if (!ec) walk_on(p, pause);
  });
}

void Crowd::close_all() {
  closing_ = true;
  for (auto& p : players_) {
    p->timer.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(p->ws).socket().close(ignored);
  }
}

// ---- what is measured: the game's /metrics and CPU times ----

struct Cpu {
  double process_s = 0, main_s = 0;  // the whole process; its main (SIP) thread
};

double cpu_seconds(const std::string& stat_path) {
  std::ifstream f(stat_path);
  std::string line;
  std::getline(f, line);
  auto paren = line.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(line.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime (clock ticks)
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

Cpu read_cpu(const std::string& pid) {
  return {cpu_seconds("/proc/" + pid + "/stat"), cpu_seconds("/proc/" + pid + "/task/" + pid + "/stat")};
}

// GET /metrics; nullopt when the game does not answer it in 5 tries (its SIP thread
// answers, and a 503 after 2 s says it is overloaded).
std::optional<json::object> get_metrics(const tcp::endpoint& game) {
  http::Client client;
  for (int attempt = 1; attempt <= 5; ++attempt) {
    http::ClientRequest r;
    r.host = game.address().to_string();
    r.port = game.port();
    r.target = "/metrics";
    r.timeout = 3000ms;
    std::promise<http::ClientResponse> answer;
    client.send(std::move(r), [&answer](http::ClientResponse response) { answer.set_value(std::move(response)); });
    auto response = answer.get_future().get();
    boost::system::error_code ec;
    auto v = json::parse(response.body, ec);
    if (response.status == 200 && !ec && v.is_object()) return v.as_object();
    std::cerr << "GET /metrics (try " << attempt << "): "
              << (response.status ? "HTTP " + std::to_string(response.status) : response.reason) << "\n";
  }
  return std::nullopt;
}

double number(const json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  return v && v->is_number() ? v->to_number<double>() : 0;
}

struct Snapshot {
  Clock::time_point at;
  std::optional<json::object> metrics;
  std::map<std::string, Cpu> cpu;  // by --pid name
};

Snapshot snapshot(const tcp::endpoint& game, const std::map<std::string, std::string>& pids) {
  Snapshot s;
  s.metrics = get_metrics(game);
  s.at = Clock::now();
  for (auto& [name, pid] : pids) s.cpu[name] = read_cpu(pid);
  return s;
}

// The result lines; false when the game's counters could not be read.
bool print_result(const Snapshot& a, const Snapshot& b, size_t players, size_t joined, const Answerer& phones,
                  uint64_t rtp_in) {
  if (!a.metrics || !b.metrics) {
    std::printf("error: the game did not answer GET /metrics (overloaded?)\n");
    return false;
  }
  double secs = std::chrono::duration<double>(b.at - a.at).count();
  double crossings = number(*b.metrics, "crossings") - number(*a.metrics, "crossings");
  double moves = number(*b.metrics, "moves") - number(*a.metrics, "moves");
  double failures = number(*b.metrics, "move_failures") - number(*a.metrics, "move_failures");
  json::object ms;
  if (auto* v = b.metrics->if_contains("move_ms"); v && v->is_object()) ms = v->as_object();
  std::printf("players=%zu joined=%zu legs=%zu crossings=%.0f moves=%.0f move_failures=%.0f seconds=%.1f "
              "crossings_per_s=%.1f moves_per_s=%.1f move_p50_ms=%.2f move_p99_ms=%.2f move_max_ms=%.2f "
              "reinvites=%llu redials=%llu legs_ended=%llu rtp_in_per_s=%.0f\n",
              players, joined, phones.legs(), crossings, moves, failures, secs, crossings / secs, moves / secs,
              number(ms, "p50"), number(ms, "p99"), number(ms, "max"),
              static_cast<unsigned long long>(phones.reinvites()), static_cast<unsigned long long>(phones.redials()),
              static_cast<unsigned long long>(phones.ended()),
              static_cast<double>(rtp_in) / secs);
  for (auto& [name, before] : a.cpu) {
    const Cpu& after = b.cpu.at(name);
    double total = after.process_s - before.process_s, main = after.main_s - before.main_s;
    std::printf("cpu %s=pct:%.1f main_pct:%.1f ms_per_crossing:%.3f main_ms_per_crossing:%.3f\n", name.c_str(),
                100 * total / secs, 100 * main / secs, crossings > 0 ? 1000 * total / crossings : 0,
                crossings > 0 ? 1000 * main / crossings : 0);
  }
  std::fflush(stdout);
  return true;
}

std::vector<std::pair<double, double>> parse_walk(const std::string& text) {
  double v[4];
  if (text.empty() || std::sscanf(text.c_str(), "%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3]) != 4) return {};
  return {{v[0], v[1]}, {v[2], v[3]}};
}

void on_watchdog(int) {
  static const char msg[] = "confab-game-load: watchdog expired, exiting\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(3);
}

struct Options {
  std::string game = "127.0.0.1:8481", listen = "127.0.0.1:5400", walker, walk;
  std::vector<std::string> pids;
  size_t players = 100;
  double join_rate = 100, seconds = 20, warmup = 5, join_timeout = 60;
  int walk_pause_ms = 1500;
  uint16_t rtp_port = 43000;
};

void add_options(CLI::App& app, Options& o) {
  app.add_option("--game", o.game, "the game server's HOST:PORT (WebSocket /ws, GET /metrics)")->capture_default_str();
  app.add_option("--players", o.players, "players to join")->capture_default_str()->check(CLI::Range(1, 5000));
  app.add_option("--sip", o.listen, "HOST:PORT answering for every player (sip:p<i>@it)")->capture_default_str();
  app.add_option("--rtp-port", o.rtp_port, "the port every leg's SDP names")->capture_default_str();
  app.add_option("--join-rate", o.join_rate, "joins per second")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--join-timeout", o.join_timeout, "seconds for every player to join and get its leg")
      ->capture_default_str();
  app.add_option("--warmup", o.warmup, "seconds of wandering before measuring")->capture_default_str();
  app.add_option("--seconds", o.seconds, "seconds measured")->capture_default_str()->check(CLI::Range(1.0, 600.0));
  app.add_option("--walker", o.walker, "a SIP address joining as player 'walker', walking between --walk's points");
  app.add_option("--walk", o.walk, "X1,Y1,X2,Y2: the walker's two points");
  app.add_option("--walk-pause-ms", o.walk_pause_ms, "the walker heads for the other point this often")
      ->capture_default_str();
  app.add_option("--pid", o.pids, "NAME=PID: a process whose CPU time is measured (repeatable)");
}

std::chrono::milliseconds ms_of(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Joins the players at the join rate (and the walker), then waits until every
// one is welcome and every player's leg has media, or the join timeout.
const Clock::time_point program_start = Clock::now();

// Progress on stderr, for the benchmark's logs.
void progress(const char* what, Crowd& crowd, const Answerer& phones) {
  std::lock_guard lock(crowd.error_mutex);
  std::fprintf(stderr, "%7.2f s %s: welcomed=%zu legs=%zu refused=%zu dropped=%zu%s%s\n",
               std::chrono::duration<double>(Clock::now() - program_start).count(), what, crowd.welcomed.load(), phones.legs(),
               crowd.refused.load(), crowd.dropped.load(), crowd.first_error.empty() ? "" : " first error: ",
               crowd.first_error.c_str());
}

void join_everyone(const Options& o, sip::EventLoop& loop, asio::io_context& io, Crowd& crowd, const Answerer& phones,
                   size_t everyone) {
  if (!o.walker.empty())
    asio::post(io, [&crowd, &o] { crowd.add("walker", o.walker, parse_walk(o.walk)); });
  size_t started = 0;
  auto next_report = program_start + 1s;
  while (Clock::now() - program_start < ms_of(o.join_timeout) && (crowd.welcomed < everyone || phones.legs() < o.players)) {
    double elapsed = std::chrono::duration<double>(Clock::now() - program_start).count();
    size_t due = std::min(o.players, static_cast<size_t>(o.join_rate * elapsed) + 1);
    for (; started < due; ++started)
      asio::post(io, [&crowd, i = started, host = o.listen] {
        crowd.add("b" + std::to_string(i), "sip:p" + std::to_string(i) + "@" + host);
      });
    loop.run_for(20ms);
    if (Clock::now() >= next_report) {
      progress("joining", crowd, phones);
      next_report += 1s;
    }
  }
  progress("joined", crowd, phones);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"confab-game-load: wandering players for bench/game_crossings.sh"};
  Options o;
  add_options(app, o);
  CLI11_PARSE(app, argc, argv);
  if (!o.walker.empty() && parse_walk(o.walk).empty()) {
    std::cerr << "--walker needs --walk X1,Y1,X2,Y2\n";
    return 2;
  }
  std::map<std::string, std::string> pids{{"load", std::to_string(getpid())}};
  for (auto& p : o.pids)
    if (auto eq = p.find('='); eq != std::string::npos) pids[p.substr(0, eq)] = p.substr(eq + 1);
  auto colon = o.game.rfind(':');
  tcp::endpoint game_at(asio::ip::make_address(o.game.substr(0, colon)),
                        static_cast<uint16_t>(std::stoi(o.game.substr(colon + 1))));
  signal(SIGALRM, on_watchdog);
  alarm(static_cast<unsigned>(o.join_timeout + o.warmup + o.seconds + 20));

  sip::EventLoop loop;
  RtpLegs rtp(o.rtp_port, o.players);
  Answerer phones(loop, o.listen, o.rtp_port, rtp, o.players);
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  Crowd crowd(io, game_at, 1234);
  std::thread io_thread([&io] { io.run(); });
  const size_t everyone = o.players + (o.walker.empty() ? 0 : 1);
  join_everyone(o, loop, io, crowd, phones, everyone);
  const size_t joined = crowd.welcomed - (crowd.walker_welcomed ? 1 : 0);

  asio::post(io, [&crowd, &o] { crowd.wander(std::chrono::milliseconds(o.walk_pause_ms)); });
  loop.run_for(ms_of(o.warmup));
  progress("warmed up", crowd, phones);
  Snapshot before = snapshot(game_at, pids);
  uint64_t rtp_before = rtp.received();
  std::printf("measuring for %.0f s\n", o.seconds);
  std::fflush(stdout);
  loop.run_for(ms_of(o.seconds));
  progress("measured", crowd, phones);
  Snapshot after = snapshot(game_at, pids);
  bool measured = print_result(before, after, o.players, joined, phones, rtp.received() - rtp_before);
  progress("snapshot taken", crowd, phones);
  if (phones.ended()) std::fprintf(stderr, "legs ended: %s\n", phones.ended_why().c_str());
  const bool everyone_kept_a_leg = crowd.welcomed == everyone && phones.legs() == o.players && phones.ended() == 0;

  asio::post(io, [&crowd] { crowd.close_all(); });
  work.reset();
  loop.run_for(300ms);
  io.stop();
  io_thread.join();
  phones.shutdown();
  return measured && everyone_kept_a_leg ? 0 : 1;
}
