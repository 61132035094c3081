#include "media/wav.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "media/tone.h"

using namespace confab::media;

namespace {

class WavTest : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("confab-wav-" + std::to_string(getpid()));
  void SetUp() override { std::filesystem::create_directories(dir); }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string file(const std::string& name) { return (dir / name).string(); }
};

std::vector<int16_t> tone(double frequency, int rate, size_t samples) {
  std::vector<int16_t> pcm(samples);
  ToneGenerator(frequency, rate).fill(pcm.data(), pcm.size());
  return pcm;
}

double zero_crossing_frequency(const std::vector<int16_t>& pcm, int rate) {
  size_t crossings = 0;
  for (size_t i = 1; i < pcm.size(); ++i) crossings += (pcm[i - 1] < 0) != (pcm[i] < 0);
  return crossings / 2.0 * rate / static_cast<double>(pcm.size());
}

}  // namespace

TEST_F(WavTest, WriteThenReadBack) {
  auto pcm = tone(440, 8000, 8000);
  pcm[0] = -32768;
  pcm[1] = 32767;
  {
    WavWriter writer(file("a.wav"), 8000);
    EXPECT_EQ(writer.rate(), 8000);
    for (size_t at = 0; at < pcm.size(); at += 160) writer.write(pcm.data() + at, 160);
    writer.flush();
    // After flush() the file is readable as it stands.
    EXPECT_EQ(read_wav(file("a.wav"), 8000), pcm);
  }
  EXPECT_EQ(read_wav(file("a.wav"), 8000), pcm);
}

TEST_F(WavTest, ReadingAt8kResamples16kFile) {
  auto pcm = tone(1000, 16000, 16000);
  {
    WavWriter writer(file("wide.wav"), 16000);
    writer.write(pcm.data(), pcm.size());
  }
  auto narrow = read_wav(file("wide.wav"), 8000);
  EXPECT_NEAR(static_cast<double>(narrow.size()), 8000, 1);
  EXPECT_NEAR(zero_crossing_frequency(narrow, 8000), 1000, 10);
}

TEST_F(WavTest, MissingFileThrowsWithItsName) {
  try {
    read_wav(file("nope.wav"), 8000);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.wav"), std::string::npos) << e.what();
  }
  EXPECT_THROW(WavWriter(file("no/such/dir.wav"), 8000), std::runtime_error);
}

TEST_F(WavTest, StereoIsMixedDown) {
  // A hand-made 16-bit stereo WAV: left = tone, right = half of it.
  auto left = tone(500, 8000, 800);
  std::vector<int16_t> frames;
  for (auto s : left) frames.insert(frames.end(), {s, static_cast<int16_t>(s / 2)});
  auto put32 = [](std::string& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>(v >> (8 * i));
  };
  auto put16 = [](std::string& out, uint16_t v) { out += static_cast<char>(v), out += static_cast<char>(v >> 8); };
  uint32_t data_bytes = static_cast<uint32_t>(frames.size() * 2);
  std::string wav = "RIFF";
  put32(wav, 36 + data_bytes);
  wav += "WAVEfmt ";
  put32(wav, 16);
  put16(wav, 1);  // PCM
  put16(wav, 2);  // channels
  put32(wav, 8000);
  put32(wav, 8000 * 4);
  put16(wav, 4);
  put16(wav, 16);
  wav += "data";
  put32(wav, data_bytes);
  for (auto s : frames) put16(wav, static_cast<uint16_t>(s));
  FILE* f = fopen(file("stereo.wav").c_str(), "wb");
  ASSERT_TRUE(f);
  fwrite(wav.data(), 1, wav.size(), f);
  fclose(f);

  auto mono = read_wav(file("stereo.wav"), 8000);
  ASSERT_EQ(mono.size(), left.size());
  for (size_t i = 0; i < mono.size(); ++i) EXPECT_NEAR(mono[i], (left[i] + left[i] / 2) / 2, 1) << i;
}
