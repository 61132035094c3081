// The mixing engine against participants on loopback: each hears every other
// participant's tone and not its own (N-1); a moved leg hears its new mix.
#include "mixer/mix_engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "media/tone.h"

using namespace confab;
using namespace std::chrono_literals;

namespace {

double power_at(const std::vector<int16_t>& x, double freq, int rate) {
  // Goertzel: energy of one frequency bin.
  double k = 2 * std::cos(2 * M_PI * freq / rate), s1 = 0, s2 = 0;
  for (int16_t v : x) {
    double s = v + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / static_cast<double>(x.size() * x.size());
}

media::PortRange ports(41000, 41999);

struct Participant {
  double freq;
  media::Codec codec;
  std::unique_ptr<media::AudioStream> stream;  // the participant's own side
  media::ToneGenerator tone;
  std::vector<int16_t> heard;
  Participant(double f, media::Codec c) : freq(f), codec(c), tone(f, 16000, 0.25) {}
};

// Connects a participant to a new leg of `mix`.
mixer::LegId join(mixer::MixEngine& engine, Participant& p, const std::string& mix) {
  auto mine = ports.allocate("127.0.0.1");
  auto theirs = ports.allocate("127.0.0.1");
  uint16_t my_port = mine->rtp.local_port(), leg_port = theirs->rtp.local_port();
  int pt = p.codec == media::Codec::Opus ? 111 : media::describe(p.codec).static_payload_type;
  p.stream = std::make_unique<media::AudioStream>(std::move(mine->rtp), std::move(mine->rtcp));
  p.stream->set_terms({p.codec, pt, std::nullopt, *media::Endpoint::from("127.0.0.1", leg_port), true, true});
  auto leg = std::make_unique<media::AudioStream>(std::move(theirs->rtp), std::move(theirs->rtcp));
  return engine.add_leg(mix, std::move(leg),
                        {p.codec, pt, std::nullopt, *media::Endpoint::from("127.0.0.1", my_port), true, true});
}

// Every participant talks and listens for `duration`; the last second is kept.
void converse(std::vector<Participant*> ps, std::chrono::milliseconds duration) {
  auto start = std::chrono::steady_clock::now();
  auto next = start;
  int16_t frame[media::kMaxFrameSamples];
  for (auto* p : ps) p->heard.clear();
  while (std::chrono::steady_clock::now() - start < duration) {
    next += 20ms;
    uint64_t now_ms = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
    for (auto* p : ps) {
      p->tone.fill(frame, media::frame_samples(16000));
      p->stream->push(frame, 16000);
      p->stream->receive(now_ms);
      p->stream->pull(frame, 16000);
      p->heard.insert(p->heard.end(), frame, frame + media::frame_samples(16000));
    }
    std::this_thread::sleep_until(next);
  }
  for (auto* p : ps)
    if (p->heard.size() > 16000) p->heard.erase(p->heard.begin(), p->heard.end() - 16000);
}

bool hears(const Participant& listener, double freq) { return power_at(listener.heard, freq, 16000) > 1e4; }

}  // namespace

TEST(MixEngine, EachLegHearsTheOthersButNotItself) {
  mixer::MixEngine engine({1, 60000}, nullptr);
  Participant a(440, media::Codec::Pcmu), b(700, media::Codec::Pcma), c(1100, media::Codec::G722);
  join(engine, a, "room");
  join(engine, b, "room");
  join(engine, c, "room");
  converse({&a, &b, &c}, 1500ms);
  for (auto* p : {&a, &b, &c})
    for (auto* q : {&a, &b, &c}) {
      if (p == q)
        EXPECT_FALSE(hears(*p, q->freq)) << p->freq << " hears itself";
      else
        EXPECT_TRUE(hears(*p, q->freq)) << p->freq << " does not hear " << q->freq;
    }
  auto snap = engine.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].legs.size(), 3u);
  EXPECT_EQ(snap[0].rate, 16000);  // G.722 makes it a wideband mix
  auto m = engine.metrics();
  EXPECT_GT(m.ticks, 50u);
  EXPECT_GT(m.encodes, 0u);
}

TEST(MixEngine, MovedLegHearsItsNewMixAndMuteSilences) {
  mixer::MixEngine engine({1, 60000}, nullptr);
  Participant a(500, media::Codec::Pcmu), b(900, media::Codec::Pcmu), c(1300, media::Codec::Pcmu);
  auto la = join(engine, a, "one");
  join(engine, b, "one");
  join(engine, c, "two");
  converse({&a, &b, &c}, 1200ms);
  EXPECT_TRUE(hears(a, 900));
  EXPECT_FALSE(hears(a, 1300));
  engine.move_leg(la, "two");
  converse({&a, &b, &c}, 1200ms);
  EXPECT_TRUE(hears(a, 1300));
  EXPECT_FALSE(hears(a, 900));
  EXPECT_TRUE(hears(c, 500));
  EXPECT_FALSE(hears(b, 500));
  engine.set_mute(la, true);
  converse({&a, &b, &c}, 1200ms);
  EXPECT_FALSE(hears(c, 500));
  EXPECT_TRUE(hears(a, 1300));  // a muted still hears
}

TEST(MixEngine, SilentLegsShareOneEncode) {
  mixer::MixEngine engine({1, 60000}, nullptr);
  Participant talker(600, media::Codec::Pcmu), l1(0, media::Codec::Pcmu), l2(0, media::Codec::Pcmu);
  join(engine, talker, "r");
  auto m1 = join(engine, l1, "r");
  join(engine, l2, "r");
  engine.set_mute(m1, true);
  converse({&talker}, 800ms);  // listeners send nothing
  auto m = engine.metrics();
  EXPECT_GT(m.shared_encodes, 20u);
}

TEST(MixEngine, ReportsRtpTimeout) {
  std::atomic<int> timeouts{0};
  mixer::MixEngine engine({1, 300}, [&](mixer::LegId, mixer::MixEngine::LegEvent) { ++timeouts; });
  Participant quiet(0, media::Codec::Pcmu);
  join(engine, quiet, "r");
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(timeouts.load(), 1);
}
