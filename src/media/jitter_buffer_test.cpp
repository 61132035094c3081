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
