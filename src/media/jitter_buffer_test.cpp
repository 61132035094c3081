#include "media/jitter_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace confab::media;
using Result = JitterBuffer::Result;

namespace {

constexpr uint32_t kStep = 160;  // 20 ms at 8 kHz

// Packet `id` of a stream: timestamp base + id * 20 ms, payload names the id.
struct Stream {
  JitterBuffer buffer{8000};
  uint32_t base = 123456;
  std::vector<uint8_t> scratch;

  void put(int id) {
    std::string payload = "packet " + std::to_string(id);
    buffer.put(base + static_cast<uint32_t>(id) * kStep, kStep, reinterpret_cast<const uint8_t*>(payload.data()),
               payload.size());
  }
  // One 20 ms tick: "P<id>", "L" (lost) or "I" (idle).
  std::string pull() {
    switch (buffer.pull(scratch)) {
      case Result::Packet:
        return "P" + std::string(scratch.begin() + 7, scratch.end());
      case Result::Lost:
        EXPECT_TRUE(scratch.empty());
        return "L";
      case Result::Idle:
        EXPECT_TRUE(scratch.empty());
        return "I";
    }
    return "?";
  }
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

// The ids delivered, in order.
std::vector<int> delivered(const std::vector<std::string>& results) {
  std::vector<int> ids;
  for (auto& r : results)
    if (r[0] == 'P') ids.push_back(std::stoi(r.substr(1)));
  return ids;
}

}  // namespace

TEST(JitterBuffer, IdleBeforeAnyPacket) {
  Stream s;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.pull(), "I");
  EXPECT_EQ(s.buffer.delay_ms(), 0);
}

TEST(JitterBuffer, InOrderDeliveryAfterInitialBuffering) {
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 100; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  // A short initial buffering, then every packet in its slot.
  ASSERT_EQ(out[0], "I") << join(out);
  EXPECT_EQ(out[1], "P0") << join(out);
  for (size_t i = 1; i < out.size(); ++i) EXPECT_EQ(out[i], "P" + std::to_string(i - 1)) << join(out);
  EXPECT_GE(s.buffer.delay_ms(), 20);
  EXPECT_LE(s.buffer.delay_ms(), 60);
}

TEST(JitterBuffer, ReorderedPacketsComeOutInOrder) {
  Stream s;
  std::vector<std::string> out;
  // Arrival order 0 2 1 3 5 4 6 8 7 ...: every third packet overtakes its predecessor.
  for (int i = 0; i < 150; ++i) {
    int id = i % 3 == 1 ? i + 1 : i % 3 == 2 ? i - 1 : i;
    s.put(id);
    out.push_back(s.pull());
  }
  auto ids = delivered(out);
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]) << join(out);
  // Once the buffer has adapted (the first second), nothing is lost.
  size_t after_adapting = 0;
  for (size_t i = 50; i < out.size(); ++i) after_adapting += out[i][0] == 'P';
  EXPECT_EQ(after_adapting, out.size() - 50) << join(out);
}

TEST(JitterBuffer, MissingPacketIsLost) {
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 40; ++i) {
    if (i != 20) s.put(i);
    out.push_back(s.pull());
  }
  auto text = join(out);
  EXPECT_NE(text.find("P19 L P21"), std::string::npos) << text;
}

TEST(JitterBuffer, DuplicatesAreIgnored) {
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 60; ++i) {
    s.put(i);
    s.put(i);
    if (i >= 2) s.put(i - 2);  // and an echo of an older one
    out.push_back(s.pull());
  }
  auto ids = delivered(out);
  ASSERT_EQ(ids.size(), 59u) << join(out);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int>(i)) << join(out);
}

TEST(JitterBuffer, LatePacketIsDropped) {
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 60; ++i) {
    if (i != 30) s.put(i);
    if (i == 35) s.put(30);  // 100 ms too late
    out.push_back(s.pull());
  }
  auto ids = delivered(out);
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]) << join(out);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 30), 0) << join(out);
  EXPECT_NE(join(out).find("P29 L P31"), std::string::npos) << join(out);
}

TEST(JitterBuffer, IdleAfterTheStreamStopsThenResumes) {
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 20; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  // The sender stops: the buffer drains, conceals a little, then reports Idle.
  std::vector<std::string> after;
  for (int i = 0; i < 30; ++i) after.push_back(s.pull());
  auto text = join(after);
  auto idle = std::find(after.begin(), after.end(), "I");
  ASSERT_NE(idle, after.end()) << text;
  // The 10th pull after the last arrival (200 ms) is Idle; before it, concealment.
  EXPECT_EQ(idle - after.begin(), 8) << text;
  EXPECT_EQ(std::count(after.begin(), idle, "L"), 7) << text;
  EXPECT_EQ(std::count(idle, after.end(), "I"), after.end() - idle) << text;

  // It comes back (same timestamps clock, 600 ms later) and plays again.
  out.clear();
  for (int i = 50; i < 70; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  EXPECT_EQ(out[0], "I") << join(out);
  EXPECT_EQ(out[1], "P50") << join(out);
  EXPECT_EQ(out.back(), "P68") << join(out);
}

TEST(JitterBuffer, ResetStartsOver) {
  Stream s;
  for (int i = 0; i < 10; ++i) {
    s.put(i);
    s.pull();
  }
  s.buffer.reset();
  EXPECT_EQ(s.pull(), "I");
  EXPECT_EQ(s.buffer.delay_ms(), 0);
  // A new stream (new SSRC) with unrelated timestamps.
  s.base = 999;
  std::vector<std::string> out;
  for (int i = 0; i < 10; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  EXPECT_EQ(join(out), "I P0 P1 P2 P3 P4 P5 P6 P7 P8");
}

TEST(JitterBuffer, TimestampJumpOfSecondsRestarts) {
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 10; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  s.base += 8000 * 60;  // a minute ahead, same SSRC
  for (int i = 10; i < 20; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  EXPECT_EQ(join(out), "I P0 P1 P2 P3 P4 P5 P6 P7 P8 I P10 P11 P12 P13 P14 P15 P16 P17 P18");
}

TEST(JitterBuffer, BadInputIsDropped) {
  Stream s;
  const uint8_t byte = 1;
  s.buffer.put(0, kStep, nullptr, 10);
  s.buffer.put(0, kStep, &byte, 0);
  s.buffer.put(0, 8000, &byte, 1);  // a one-second "packet"
  std::vector<uint8_t> big(2000);
  s.buffer.put(0, kStep, big.data(), big.size());
  EXPECT_EQ(s.pull(), "I");
  EXPECT_EQ(s.pull(), "I");
}

TEST(JitterBuffer, ReorderingWithinTheBufferIsRepaired) {
  Stream s;
  std::vector<std::string> out;
  // Pairs swapped: 1 0 3 2 5 4 ... The first two gather in the prefill; after
  // that every packet is in the buffer when its turn comes.
  for (int i = 0; i < 60; ++i) {
    s.put(i % 2 == 0 ? i + 1 : i - 1);
    out.push_back(s.pull());
  }
  auto ids = delivered(out);
  ASSERT_GE(ids.size(), 55u) << join(out);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int>(i)) << join(out);
  EXPECT_EQ(std::count(out.begin(), out.end(), "L"), 0) << join(out);
}

TEST(JitterBuffer, DuplicateOfAWaitingPacketIsPlayedOnce) {
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 30; ++i) {
    s.put(i);
    s.put(i + 1);  // early, then again on time: one copy waits, the other is dropped
    out.push_back(s.pull());
  }
  auto ids = delivered(out);
  ASSERT_GE(ids.size(), 28u) << join(out);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int>(i)) << join(out);
}

TEST(JitterBuffer, AdaptsToFortyMillisecondsOfJitter) {
  // A clean start, then from packet 20 on each packet is delayed 0, 20 or 40 ms
  // (pseudo-random), so packets also overtake each other.
  Stream s;
  constexpr int kPackets = 400;
  std::vector<std::vector<int>> arrivals(kPackets + 3);
  uint32_t rng = 12345;
  for (int i = 0; i < kPackets; ++i) {
    rng = rng * 1103515245u + 12345u;
    arrivals[static_cast<size_t>(i) + (i < 20 ? 0 : (rng >> 16) % 3)].push_back(i);
  }
  std::vector<std::string> out;
  int max_delay_ms = 0;
  for (auto& tick : arrivals) {
    for (auto it = tick.rbegin(); it != tick.rend(); ++it) s.put(*it);
    out.push_back(s.pull());
    if (out.size() > 100 && out.size() <= kPackets) max_delay_ms = std::max(max_delay_ms, s.buffer.delay_ms());
  }
  // Something was lost before it adapted (the delay had to grow)...
  std::vector<std::string> adapting(out.begin(), out.begin() + 70);
  EXPECT_GT(std::count(adapting.begin(), adapting.end(), "L"), 0) << join(out);
  // ...and after the first second of jitter nothing is: every packet in turn.
  std::vector<std::string> adapted(out.begin() + 70, out.end() - 3);
  EXPECT_EQ(std::count(adapted.begin(), adapted.end(), "L"), 0) << join(out);
  auto ids = delivered(adapted);
  EXPECT_EQ(ids.size(), adapted.size()) << join(out);
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1) << join(out);
  EXPECT_GE(max_delay_ms, 40) << join(out);
  EXPECT_LE(max_delay_ms, 100) << join(out);
}

TEST(JitterBuffer, ShrinksAgainWhenTheJitterIsGone) {
  Stream s;
  std::vector<std::string> out;
  // 60 ms of jitter for two seconds, then a clean stream for eight.
  for (int i = 0; i < 500; ++i) {
    bool jittery = i < 100;
    if (!jittery || i % 4 != 0) s.put(i);
    if (jittery && i % 4 == 3) s.put(i - 3);  // every fourth packet 60 ms late
    out.push_back(s.pull());
  }
  EXPECT_LE(s.buffer.delay_ms(), 40) << join(out);
  auto ids = delivered(out);
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]) << join(out);
}

TEST(JitterBuffer, MultiFramePacketsAreNotReportedLost) {
  // 60 ms packets; like AudioStream, the caller plays a packet out before pulling again.
  JitterBuffer buffer(8000);
  std::vector<uint8_t> payload;
  std::vector<std::string> out;
  int frames_left = 0;
  for (int tick = 0; tick < 150; ++tick) {
    if (tick % 3 == 0) {
      std::vector<uint8_t> packet(480, static_cast<uint8_t>(tick / 3));
      buffer.put(1000 + static_cast<uint32_t>(tick) * kStep, 3 * kStep, packet.data(), packet.size());
    }
    if (frames_left == 0) {
      auto r = buffer.pull(payload);
      if (r == Result::Packet) {
        ASSERT_EQ(payload.size(), 480u);
        out.push_back("P" + std::to_string(payload[0]));
        frames_left = 3;
      } else {
        out.push_back(r == Result::Lost ? "L" : "I");
        frames_left = 1;
      }
    }
    --frames_left;
  }
  EXPECT_EQ(out[0], "I") << join(out);
  EXPECT_EQ(std::count(out.begin(), out.end(), "L"), 0) << join(out);
  auto ids = delivered(out);
  ASSERT_GE(ids.size(), 48u) << join(out);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int>(i)) << join(out);
}

TEST(JitterBuffer, TimestampWrapAround) {
  Stream s;
  s.base = 0xFFFFFFFFu - 20 * kStep + 7;  // wraps around after 20 packets
  std::vector<std::string> out;
  for (int i = 0; i < 60; ++i) {
    s.put(i % 2 == 0 ? i + 1 : i - 1);  // and reordered across the wrap
    out.push_back(s.pull());
  }
  auto ids = delivered(out);
  ASSERT_GE(ids.size(), 55u) << join(out);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], static_cast<int>(i)) << join(out);
  EXPECT_EQ(std::count(out.begin(), out.end(), "L"), 0) << join(out);
  EXPECT_LE(s.buffer.delay_ms(), 60);
}

TEST(JitterBuffer, RecoversFromASmallBackwardJump) {
  // The sender's timestamps step back 100 ms (same SSRC): the buffer picks up
  // the new timing instead of dropping everything as late forever.
  Stream s;
  std::vector<std::string> out;
  for (int i = 0; i < 40; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  s.base -= 5 * kStep;  // the next packet carries the timestamp of id 35
  for (int i = 40; i < 100; ++i) {
    s.put(i);
    out.push_back(s.pull());
  }
  std::vector<std::string> tail(out.end() - 30, out.end());
  EXPECT_EQ(std::count(tail.begin(), tail.end(), "L"), 0) << join(out);
  EXPECT_EQ(std::count(tail.begin(), tail.end(), "I"), 0) << join(out);
}

TEST(JitterBuffer, GarbageTimestampsNeverBreakIt) {
  JitterBuffer buffer(48000);
  std::vector<uint8_t> payload;
  const uint8_t byte = 7;
  uint32_t rng = 99;
  for (int i = 0; i < 20000; ++i) {
    rng = rng * 1664525u + 1013904223u;
    uint32_t ts = rng & 0x80000000u ? rng : static_cast<uint32_t>(i) * 960u + (rng >> 24);
    buffer.put(ts, (rng >> 8) % 7000, &byte, 1);
    if (rng & 4) {
      auto r = buffer.pull(payload);
      EXPECT_EQ(payload.empty(), r != Result::Packet);
    }
    if (rng % 1000 == 0) buffer.reset();
    EXPECT_GE(buffer.delay_ms(), 0);
    EXPECT_LE(buffer.delay_ms(), 4000 + 1000);
  }
}

TEST(JitterBuffer, ALostPacketCostsAShortGapEvenWithAHighTarget) {
  Stream s;
  std::vector<std::string> out;
  // One packet 160 ms late raises the target; a packet lost soon after must
  // not make the buffer wait the whole 160 ms for it.
  for (int i = 0; i < 60; ++i) {
    if (i != 20 && i != 40) s.put(i);
    if (i == 28) s.put(20);
    out.push_back(s.pull());
  }
  auto text = join(out);
  auto from = text.find("P39");
  ASSERT_NE(from, std::string::npos) << text;
  auto to = text.find("P41", from);
  ASSERT_NE(to, std::string::npos) << text;
  EXPECT_LE(std::count(text.begin() + static_cast<std::ptrdiff_t>(from), text.begin() + static_cast<std::ptrdiff_t>(to), 'L'), 3)
      << text;
}
