// The mixing engine against participants on loopback: each hears every other
// participant's tone and not its own (N-1); a moved leg hears its new mix.
#include "mixer/mix_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
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

namespace {

double level_db(const Participant& listener, double freq) {
  return 10 * std::log10(std::max(power_at(listener.heard, freq, 16000), 1e-12));
}

}  // namespace

TEST(MixEngine, ListeningLegHearsTheOtherMixAtItsGainAndNobodyElseChanges) {
  mixer::MixEngine engine({1, 60000}, nullptr);
  Participant a(500, media::Codec::Pcmu), b(900, media::Codec::Pcmu), c(1300, media::Codec::Pcmu),
      d(0, media::Codec::Pcmu);
  auto la = join(engine, a, "w-one");
  join(engine, b, "w-one");
  join(engine, c, "w-two");
  join(engine, d, "w-two");
  converse({&a, &b, &c, &d}, 1200ms);
  double a_hears_b = level_db(a, 900), b_hears_a = level_db(b, 500);
  EXPECT_FALSE(hears(a, 1300));
  std::string error;
  ASSERT_TRUE(engine.set_listen(la, "w-two", -12, &error)) << error;
  converse({&a, &b, &c, &d}, 1200ms);
  // a: its own mix's N-1 as before, plus w-two at 12 dB below what w-two's own legs hear.
  EXPECT_NEAR(level_db(a, 1300), level_db(d, 1300) - 12, 1.0);
  EXPECT_NEAR(level_db(a, 900), a_hears_b, 1.0);
  EXPECT_FALSE(hears(a, 500));
  // Speaking stays in one mix: nobody else hears anything new.
  EXPECT_NEAR(level_db(b, 500), b_hears_a, 1.0);
  EXPECT_FALSE(hears(b, 1300));
  EXPECT_FALSE(hears(c, 500));
  EXPECT_FALSE(hears(d, 500));
  EXPECT_FALSE(hears(d, 900));
  auto snap = engine.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  const auto& legs = snap[0].id == "w-one" ? snap[0].legs : snap[1].legs;
  auto listener = std::find_if(legs.begin(), legs.end(), [&](const auto& l) { return l.id == la; });
  ASSERT_NE(listener, legs.end());
  ASSERT_EQ(listener->listening.size(), 1u);
  EXPECT_EQ(listener->listening[0].mix, "w-two");
  EXPECT_EQ(listener->listening[0].gain_db, -12);
  ASSERT_TRUE(engine.set_listen(la, "w-two", std::nullopt, &error)) << error;
  converse({&a, &b, &c, &d}, 1200ms);
  EXPECT_FALSE(hears(a, 1300));
  EXPECT_TRUE(hears(a, 900));
}

TEST(MixEngine, ListeningAcrossMixRatesResamples) {
  mixer::MixEngine engine({1, 60000}, nullptr);
  Participant a(500, media::Codec::Pcmu), b(900, media::Codec::Pcmu), c(1300, media::Codec::G722),
      d(0, media::Codec::G722);
  auto la = join(engine, a, "x-narrow");
  join(engine, b, "x-narrow");
  join(engine, c, "x-wide");
  auto ld = join(engine, d, "x-wide");
  std::string error;
  ASSERT_TRUE(engine.set_listen(la, "x-wide", -12, &error)) << error;  // 16 kHz heard in an 8 kHz mix
  ASSERT_TRUE(engine.set_listen(ld, "x-narrow", -6, &error)) << error;  // and the other way round
  converse({&a, &b, &c, &d}, 1500ms);
  Participant ref(0, media::Codec::G722);  // what x-wide's own legs hear of c: d hears x-narrow too now
  join(engine, ref, "x-wide");
  converse({&a, &b, &c, &d, &ref}, 1500ms);
  EXPECT_NEAR(level_db(a, 1300), level_db(ref, 1300) - 12, 1.0);
  EXPECT_NEAR(level_db(d, 500), level_db(b, 500) - 6, 1.0);
  EXPECT_NEAR(level_db(d, 900), level_db(a, 900) - 6, 1.0);
  EXPECT_NEAR(level_db(d, 1300), level_db(ref, 1300), 1.0);
  EXPECT_FALSE(hears(ref, 500));
  EXPECT_FALSE(hears(b, 1300));
}

TEST(MixEngine, ListenLinksWaitForTheirMixAndSurviveMoves) {
  mixer::MixEngine engine({1, 60000}, nullptr);
  Participant a(500, media::Codec::Pcmu), b(900, media::Codec::Pcmu), c(1300, media::Codec::Pcmu),
      d(0, media::Codec::Pcmu);
  auto la = join(engine, a, "z-one");
  join(engine, b, "z-one");
  std::string error;
  ASSERT_TRUE(engine.set_listen(la, "z-two", -12, &error)) << error;  // no such mix yet: silent
  converse({&a, &b}, 1000ms);
  EXPECT_TRUE(hears(a, 900));
  join(engine, c, "z-two");
  join(engine, d, "z-two");
  converse({&a, &b, &c, &d}, 1200ms);
  EXPECT_NEAR(level_db(a, 1300), level_db(d, 1300) - 12, 1.0);
  // Into the listened mix: the link to its own mix adds nothing (c is heard once, at full level).
  engine.move_leg(la, "z-two");
  converse({&a, &b, &c, &d}, 1200ms);
  EXPECT_NEAR(level_db(a, 1300), level_db(d, 1300), 1.0);
  EXPECT_FALSE(hears(a, 900));
  EXPECT_TRUE(hears(c, 500));
  EXPECT_EQ(engine.set_listen(la, "z-two", -6, &error), false);
  EXPECT_EQ(error, "a leg cannot listen to its own mix");
  // Back out: the link is still there.
  engine.move_leg(la, "z-one");
  converse({&a, &b, &c, &d}, 1200ms);
  EXPECT_NEAR(level_db(a, 1300), level_db(d, 1300) - 12, 1.0);
  EXPECT_TRUE(hears(a, 900));
  EXPECT_FALSE(hears(c, 500));
}

TEST(MixEngine, ListenRefusesWhatItCannotDo) {
  mixer::MixEngine engine({1, 60000}, nullptr);
  Participant a(500, media::Codec::Pcmu);
  auto la = join(engine, a, "room");
  std::string error;
  EXPECT_FALSE(engine.set_listen(la, "room", -6, &error));
  EXPECT_EQ(error, "a leg cannot listen to its own mix");
  EXPECT_FALSE(engine.set_listen(la, "other", 12.5, &error));
  EXPECT_EQ(error, "listen gain must be -60 to +12 dB");
  EXPECT_FALSE(engine.set_listen(la, "other", std::nan(""), &error));
  EXPECT_FALSE(engine.set_listen(la, "", -6, &error));
  EXPECT_FALSE(engine.set_listen(la + 100, "other", -6, &error));
  EXPECT_EQ(error, "No Such Leg");
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(engine.set_listen(la, "m" + std::to_string(i), -60 + i, &error)) << error;
  EXPECT_TRUE(engine.set_listen(la, "m0", 12, &error)) << error;  // a new gain, not a new link
  EXPECT_FALSE(engine.set_listen(la, "m8", -6, &error));
  EXPECT_EQ(error, "at most 8 listen links per leg");
  EXPECT_TRUE(engine.set_listen(la, "m8", std::nullopt, &error));  // removing a link that is not there
  EXPECT_TRUE(engine.set_listen(la, "m1", std::nullopt, &error));
  EXPECT_TRUE(engine.set_listen(la, "m8", -6, &error)) << error;
  auto snap = engine.snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].legs[0].listening.size(), 8u);
}

TEST(MixEngine, MixesSharingAnAffinityKeyShareAThreadAndLinksStayOnOne) {
  EXPECT_EQ(mixer::MixEngine::affinity_key("w1-nw"), "w1");
  EXPECT_EQ(mixer::MixEngine::affinity_key("a-b-c"), "a-b");
  EXPECT_EQ(mixer::MixEngine::affinity_key("plain"), "plain");
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: one mixing thread";
  mixer::MixEngine engine({2, 60000}, nullptr);
  Participant a(500, media::Codec::Pcmu);
  auto la = join(engine, a, "w1-nw");
  std::string error;
  for (int i = 0; i < 20; ++i)  // every zone of world w1, whatever its hash
    EXPECT_TRUE(engine.set_listen(la, "w1-z" + std::to_string(i), -6, &error) &&
                engine.set_listen(la, "w1-z" + std::to_string(i), std::nullopt, &error))
        << error;
  auto thread_of = [](const std::string& mix) {
    return std::hash<std::string_view>{}(mixer::MixEngine::affinity_key(mix)) % 2;  // as the engine picks it
  };
  std::string elsewhere = "w2-ne";
  for (int i = 3; thread_of(elsewhere) == thread_of("w1-nw"); ++i) elsewhere = "w" + std::to_string(i) + "-ne";
  EXPECT_FALSE(engine.set_listen(la, elsewhere, -6, &error));
  EXPECT_EQ(error, "that mix is on another mixing thread");
}

TEST(MixEngine, CommandsForALegMovingToAnotherThreadWaitForIt) {
  if (std::thread::hardware_concurrency() < 2) GTEST_SKIP() << "one core: one mixing thread";
  mixer::MixEngine engine({2, 60000}, nullptr);
  auto thread_of = [](const std::string& mix) {
    return std::hash<std::string_view>{}(mixer::MixEngine::affinity_key(mix)) % 2;
  };
  std::string there = "t1-b";
  for (int i = 2; thread_of(there) == thread_of("t0-a"); ++i) there = "t" + std::to_string(i) + "-b";
  Participant a(500, media::Codec::Pcmu), b(900, media::Codec::Pcmu), c(1300, media::Codec::Pcmu);
  auto la = join(engine, a, "t0-a");
  join(engine, b, there);
  join(engine, c, there + "x");  // same world as `there`: listenable from it
  converse({&a, &b, &c}, 400ms);
  // Posted at once, before the leg reaches the other thread: applied when it arrives.
  engine.move_leg(la, there);
  engine.set_mute(la, true);
  std::string error;
  ASSERT_TRUE(engine.set_listen(la, there + "x", -12, &error)) << error;
  converse({&a, &b, &c}, 1200ms);
  EXPECT_FALSE(hears(b, 500));  // muted on arrival
  EXPECT_TRUE(hears(a, 900));
  EXPECT_TRUE(hears(a, 1300));  // its link, set on arrival
  // Moved back and removed at once: gone from both threads.
  engine.move_leg(la, "t0-a");
  engine.remove_leg(la);
  std::this_thread::sleep_for(100ms);
  size_t legs = 0;
  for (const auto& m : engine.snapshot()) legs += m.legs.size();
  EXPECT_EQ(legs, 2u);
  EXPECT_FALSE(engine.has_leg(la));
}
