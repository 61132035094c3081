// confab-rtp-load: the mixer benchmark's load generator, and the plain UDP
// reflector it is compared with.
//
//   confab-rtp-load mixer   --mixer 127.0.0.1:5090 --legs N --mix-size 5 --seconds S [--codec pcmu|opus]
//   confab-rtp-load reflect --base-port P --legs N          (echoes every datagram back)
//   confab-rtp-load reflected --base-port P --legs N --seconds S
//
// Legs are set up with SIP (one INVITE each, mixes of --mix-size), then every
// leg sends one 20 ms packet per tick. All packets leave from one socket with
// sendmmsg() and every leg's SDP names the same receive port, so the generator
// costs little and the load on the far side is the per-leg socket work a real
// conference causes. Prints one line: legs, packets sent/received/expected, drops.
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>
#include <unordered_map>
#include <vector>

#include "loopback_udp.h"
#include "media/audio.h"
#include "media/codec.h"
#include "media/rtp.h"
#include "sip/event_loop.h"
#include "sip/sdp.h"
#include "sip/user_agent.h"

using namespace confab;
using namespace std::chrono_literals;

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct Target {
  sockaddr_in addr{};
  uint32_t ssrc;
  uint16_t seq = 0;
  uint32_t ts = 0;
};

struct Received {
  uint64_t packets = 0;
  uint64_t lost = 0;  // gaps in the RTP sequence numbers of the streams received
  size_t streams = 0;
};

// Sends one packet per target per 20 ms for `seconds`, receiving everything on
// `rx`; returns the number sent and what came back.
std::pair<uint64_t, Received> drive(int tx, int rx, std::vector<Target>& targets, const std::vector<uint8_t>& payload,
                                    int pt, uint32_t ts_step, double seconds) {
  std::atomic<bool> done{false};
  std::atomic<bool> counting{false};
  struct Stream {
    uint32_t first = 0, last = 0;  // extended sequence numbers
    uint64_t count = 0;
  };
  std::unordered_map<uint32_t, Stream> streams;
  uint64_t received = 0;
  // The receiver never sleeps in recv: it drains the socket, then sleeps 1 ms
  // (the socket's 32 MB buffer holds that easily). A thread blocked in recv is
  // woken by the datagram sent to it, and on loopback the sender pays for that
  // wake-up (a cross-CPU interrupt; a VM exit on a virtual machine): measured,
  // it made each of the mixer's sends 17% dearer. A peer on another host costs
  // the sender nothing of the kind. The reflector is driven the same way.
  std::thread receiver([&] {
    std::vector<uint8_t> bufs(64 * 1500);
    mmsghdr msgs[64];
    iovec iov[64];
    while (!done) {
      for (int i = 0; i < 64; ++i) {
        iov[i] = {bufs.data() + i * 1500, 1500};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int n = recvmmsg(rx, msgs, 64, MSG_DONTWAIT, nullptr);
      if (n <= 0) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      for (int i = 0; i < n && counting; ++i) {
        auto p = media::parse_rtp(bufs.data() + i * 1500, msgs[i].msg_len);
        if (!p) continue;
        ++received;
        auto& st = streams[p->header.ssrc];
        uint32_t seq = p->header.sequence;
        if (st.count == 0) {
          st.first = st.last = seq;
        } else {
          // Extend across 16-bit wrap-around relative to the last one.
          uint32_t ext = (st.last & ~0xFFFFu) | seq;
          if (ext + 0x8000u < st.last) ext += 0x10000u;
          st.last = std::max(st.last, ext);
        }
        ++st.count;
      }
    }
  });
  std::this_thread::sleep_for(100ms);
  counting = true;
  std::vector<uint8_t> packets(targets.size() * 1500);
  std::vector<mmsghdr> msgs(targets.size());
  std::vector<iovec> iov(targets.size());
  uint64_t sent = 0;
  uint64_t next = now_ns(), end = next + static_cast<uint64_t>(seconds * 1e9);
  while (next < end) {
    for (size_t i = 0; i < targets.size(); ++i) {
      auto& t = targets[i];
      media::RtpHeader h;
      h.payload_type = static_cast<uint8_t>(pt);
      h.sequence = t.seq++;
      h.timestamp = t.ts;
      h.ssrc = t.ssrc;
      t.ts += ts_step;
      size_t len = media::write_rtp(h, payload.data(), payload.size(), &packets[i * 1500], 1500);
      iov[i] = {&packets[i * 1500], len};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &t.addr;
      msgs[i].msg_hdr.msg_namelen = sizeof t.addr;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    for (size_t off = 0; off < msgs.size();) {
      int n = sendmmsg(tx, &msgs[off], static_cast<unsigned>(std::min<size_t>(1024, msgs.size() - off)), 0);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
      sent += static_cast<uint64_t>(n);
    }
    next += 20000000ull;
    timespec until{static_cast<time_t>(next / 1000000000ull), static_cast<long>(next % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
  }
  std::this_thread::sleep_for(300ms);  // let the last packets come back
  counting = false;
  done = true;
  receiver.join();
  Received r;
  r.packets = received;
  r.streams = streams.size();
  for (auto& [ssrc, st] : streams) {
    uint64_t expected = st.last - st.first + 1;
    if (expected > st.count) r.lost += expected - st.count;
  }
  return {sent, r};
}

// GET http://host:port/path (loopback admin endpoints), body only.
std::string http_get(uint16_t port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", out;
  (void)::send(fd, req.data(), req.size(), 0);
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  auto body = out.find("\r\n\r\n");
  return body == std::string::npos ? std::string() : out.substr(body + 4);
}

// Sum of one numeric field over every leg of the mixer's /mixes listing.
uint64_t sum_legs(const std::string& json, const std::string& field) {
  uint64_t total = 0;
  std::string key = "\"" + field + "\":";
  for (size_t p = json.find(key); p != std::string::npos; p = json.find(key, p + 1))
    total += std::strtoull(json.c_str() + p + key.size(), nullptr, 10);
  return total;
}

std::vector<uint8_t> tone_payload(media::Codec codec) {
  auto enc = media::make_encoder(codec);
  const int rate = enc->pcm_rate();
  std::vector<int16_t> pcm(media::frame_samples(rate));
  for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<int16_t>(6000 * std::sin(2 * M_PI * 440 * i / rate));
  std::vector<uint8_t> out(1500);
  out.resize(enc->encode(pcm.data(), out.data(), out.size()));
  return out;
}

struct Setup : sip::UserAgent::Handler, sip::CallHandler {
  int answered = 0, failed = 0;
  std::vector<Target>* targets;
  std::map<std::string, size_t> index;  // call id -> leg
  void on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest r) override { r.respond(603, "No"); }
  void on_invite_response(sip::Call& call, int status, const sip::Message& response) override {
    if (status < 200) return;
    if (status >= 300) {
      ++failed;
      return;
    }
    auto sdp = sip::SessionDescription::parse(response.body());
    auto it = index.find(call.id());
    if (!sdp || !sdp->audio() || it == index.end()) {
      ++failed;
      return;
    }
    auto& t = (*targets)[it->second];
    t.addr.sin_family = AF_INET;
    t.addr.sin_port = htons(sdp->audio()->port);
    inet_pton(AF_INET, sdp->address_of(*sdp->audio()).c_str(), &t.addr.sin_addr);
    ++answered;
  }
  void on_terminated(sip::Call&, int, std::string_view) override {}
};

int run_mixer(const std::string& mixer, uint16_t http_port, int legs, int mix_size, double seconds,
              const std::string& codec_name, uint16_t sip_port, uint16_t rx_port) {
  media::Codec codec = codec_name == "opus" ? media::Codec::Opus : media::Codec::Pcmu;
  int pt = codec == media::Codec::Opus ? 111 : 0;
  sip::EventLoop loop;
  Setup setup;
  std::vector<Target> targets(static_cast<size_t>(legs));
  setup.targets = &targets;
  sip::UserAgentOptions opts;
  opts.listen.push_back(*sip::ListenSpec::parse("udp:127.0.0.1:" + std::to_string(sip_port)));
  opts.identity = "sip:load@127.0.0.1:" + std::to_string(sip_port);
  sip::UserAgent ua(loop, opts, setup);
  std::vector<sip::SdpFormat> formats = {codec == media::Codec::Opus ? sip::SdpFormat{111, "opus", 48000, 2, ""}
                                                                     : sip::SdpFormat{0, "PCMU", 8000, 1, ""}};
  std::string offer = sip::make_audio_offer(formats, "127.0.0.1", rx_port).str();
  std::vector<std::shared_ptr<sip::Call>> calls;
  for (int i = 0; i < legs; ++i) {
    targets[i].ssrc = 0x10000000u + static_cast<uint32_t>(i);
    auto call = ua.invite("sip:load" + std::to_string(i / mix_size) + "@" + mixer, offer, setup);
    setup.index[call->id()] = static_cast<size_t>(i);
    calls.push_back(call);
    if (i % 50 == 49) loop.run_for(50ms);  // ~1000 calls/s, gentle on the mixer's SIP side
  }
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (setup.answered + setup.failed < legs && std::chrono::steady_clock::now() < deadline) loop.run_for(20ms);
  if (setup.answered < legs) {
    for (auto& c : calls)
      if (!c->established()) std::cerr << "unanswered: " << c->id() << " terminated=" << c->terminated() << "\n";
    std::cout << "error: only " << setup.answered << " of " << legs << " legs answered (" << setup.failed
              << " failed)\n";
    return 2;
  }
  int tx = bench::loopback_udp_socket(0, 4 << 20), rx = bench::loopback_udp_socket(rx_port, 32 << 20);
  loop.run_for(500ms);
  auto payload = tone_payload(codec);
  uint32_t step = static_cast<uint32_t>(media::frame_samples(media::describe(codec).rtp_clock));
  std::string before = http_get(http_port, "/mixes");
  loop.run_for(200ms);
  uint64_t late_before = sum_legs(http_get(http_port, "/metrics.json"), "late_ticks");
  auto [sent, received] = drive(tx, rx, targets, payload, pt, step, seconds);
  uint64_t late = sum_legs(http_get(http_port, "/metrics.json"), "late_ticks") - late_before;
  loop.run_for(200ms);
  std::string after = http_get(http_port, "/mixes");
  for (auto& c : calls) c->hangup();
  ua.shutdown(5000ms);
  // Uplink: what the mixer's legs counted; downlink: gaps in the mixer's RTP sequences.
  uint64_t taken = sum_legs(after, "packets_received") - sum_legs(before, "packets_received");
  uint64_t up_drops = sent > taken ? sent - taken : 0;
  std::cout << "legs=" << legs << " sent=" << sent << " mixer_received=" << taken << " returned=" << received.packets
            << " streams=" << received.streams << " drops=" << up_drops + received.lost << " (up " << up_drops
            << ", down " << received.lost << ") late_ticks=" << late << "\n";
  return 0;
}

int run_reflector(uint16_t base, int legs) {
  int ep = epoll_create1(0);
  std::vector<int> fds;
  for (int i = 0; i < legs; ++i) {
    int fd = bench::loopback_udp_socket(static_cast<uint16_t>(base + i), 256 << 10);
    int nonblocking = 1;
    ioctl(fd, FIONBIO, &nonblocking);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds.push_back(fd);
  }
  std::cout << "reflecting on " << legs << " ports from " << base << std::endl;
  epoll_event events[256];
  uint8_t buf[1500];
  for (;;) {
    int n = epoll_wait(ep, events, 256, 1000);
    for (int i = 0; i < n; ++i) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t got;
      while ((got = recvfrom(events[i].data.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len)) > 0) {
        sendto(events[i].data.fd, buf, static_cast<size_t>(got), 0, reinterpret_cast<sockaddr*>(&from), len);
        len = sizeof from;
      }
    }
  }
}

int run_reflected(uint16_t base, int legs, double seconds, uint16_t rx_port) {
  std::vector<Target> targets(static_cast<size_t>(legs));
  for (int i = 0; i < legs; ++i) {
    targets[i].ssrc = 0x20000000u + static_cast<uint32_t>(i);
    targets[i].addr.sin_family = AF_INET;
    targets[i].addr.sin_port = htons(static_cast<uint16_t>(base + i));
    targets[i].addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  // The reflector answers to the sender's address: send from the receive socket.
  int rx = bench::loopback_udp_socket(rx_port, 32 << 20);
  auto payload = tone_payload(media::Codec::Pcmu);
  auto [sent, received] = drive(rx, rx, targets, payload, 0, 160, seconds);
  uint64_t drops = (sent > received.packets ? sent - received.packets : 0);
  std::cout << "legs=" << legs << " sent=" << sent << " returned=" << received.packets << " streams="
            << received.streams << " drops=" << drops << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"confab-rtp-load: RTP load for bench/mixer_capacity.sh"};
  app.require_subcommand(1);
  std::string mixer = "127.0.0.1:5090", codec = "pcmu";
  int legs = 100, mix_size = 5, base = 50000;
  double seconds = 10;
  uint16_t sip_port = 5098, rx_port = 49000, http_port = 5091;
  auto* m = app.add_subcommand("mixer", "set up legs on a mixer and drive them");
  m->add_option("--mixer", mixer);
  m->add_option("--mixer-http", http_port, "port of the mixer's HTTP endpoint (for its leg counters)");
  m->add_option("--legs", legs);
  m->add_option("--mix-size", mix_size);
  m->add_option("--seconds", seconds);
  m->add_option("--codec", codec)->check(CLI::IsMember({"pcmu", "opus"}));
  m->add_option("--sip-port", sip_port);
  m->add_option("--rx-port", rx_port);
  auto* r = app.add_subcommand("reflect", "echo every datagram on N ports");
  r->add_option("--base-port", base);
  r->add_option("--legs", legs);
  auto* d = app.add_subcommand("reflected", "drive a reflector");
  d->add_option("--base-port", base);
  d->add_option("--legs", legs);
  d->add_option("--seconds", seconds);
  d->add_option("--rx-port", rx_port);
  CLI11_PARSE(app, argc, argv);
  if (m->parsed()) return run_mixer(mixer, http_port, legs, mix_size, seconds, codec, sip_port, rx_port);
  if (r->parsed()) return run_reflector(static_cast<uint16_t>(base), legs);
  return run_reflected(static_cast<uint16_t>(base), legs, seconds, rx_port);
}
