#include "media/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "media/audio.h"
#include "media/tone.h"

extern "C" {
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
}

using namespace confab::media;

namespace {

// Power of `frequency` in `pcm` (Goertzel).
double power_at(const int16_t* pcm, size_t n, int rate, double frequency) {
  double coeff = 2 * std::cos(2 * std::numbers::pi * frequency / rate);
  double s1 = 0, s2 = 0;
  for (size_t i = 0; i < n; ++i) {
    double s0 = pcm[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

// The strongest frequency between 100 Hz and Nyquist: 10 Hz steps, then 1 Hz around the peak.
double dominant_frequency(const int16_t* pcm, size_t n, int rate) {
  auto best_in = [&](double from, double to, double step) {
    double best = from, best_power = -1;
    for (double f = from; f <= to; f += step) {
      double p = power_at(pcm, n, rate, f);
      if (p > best_power) best_power = p, best = f;
    }
    return best;
  };
  double coarse = best_in(100, rate / 2.0 - 100, 10);
  return best_in(coarse - 10, coarse + 10, 1);
}

double rms(const int16_t* pcm, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(pcm[i]) * pcm[i];
  return n ? std::sqrt(sum / static_cast<double>(n)) : 0;
}

// Encodes and decodes `frames` 20 ms frames of a 1000 Hz tone.
struct RoundTrip {
  std::vector<int16_t> input, output;
};
RoundTrip round_trip(Encoder& encoder, Decoder& decoder, int frames) {
  RoundTrip r;
  size_t n = frame_samples(encoder.pcm_rate());
  ToneGenerator tone(1000, encoder.pcm_rate(), 0.5);
  std::vector<int16_t> pcm(n), decoded(kMaxFrameSamples * 6);
  std::vector<uint8_t> payload(1500);
  for (int i = 0; i < frames; ++i) {
    tone.fill(pcm.data(), n);
    r.input.insert(r.input.end(), pcm.begin(), pcm.end());
    size_t bytes = encoder.encode(pcm.data(), payload.data(), payload.size());
    EXPECT_GT(bytes, 0u);
    size_t got = decoder.decode(payload.data(), bytes, decoded.data(), decoded.size());
    EXPECT_EQ(got, n);
    r.output.insert(r.output.end(), decoded.begin(), decoded.begin() + static_cast<std::ptrdiff_t>(got));
  }
  return r;
}

class EachCodec : public ::testing::TestWithParam<Codec> {};

}  // namespace

TEST_P(EachCodec, ToneSurvivesEncodeAndDecode) {
  auto encoder = make_encoder(GetParam());
  auto decoder = make_decoder(GetParam());
  ASSERT_EQ(encoder->codec(), GetParam());
  ASSERT_EQ(decoder->pcm_rate(), encoder->pcm_rate());
  auto r = round_trip(*encoder, *decoder, 50);  // 1 s
  ASSERT_EQ(r.output.size(), r.input.size());

  // Skip the codec's start-up (Opus ramps up over its first frames).
  int rate = decoder->pcm_rate();
  size_t skip = static_cast<size_t>(rate) / 10;
  const int16_t* out = r.output.data() + skip;
  size_t n = r.output.size() - skip;
  EXPECT_NEAR(dominant_frequency(out, n, rate), 1000, 20);
  double level = rms(out, n) / rms(r.input.data() + skip, n);
  EXPECT_GT(level, 0.8);
  EXPECT_LT(level, 1.25);
}

TEST_P(EachCodec, ConcealmentContinuesTheTone) {
  auto encoder = make_encoder(GetParam());
  auto decoder = make_decoder(GetParam());
  round_trip(*encoder, *decoder, 25);
  int rate = decoder->pcm_rate();
  std::vector<int16_t> concealed(frame_samples(rate), 0);
  decoder->conceal(concealed.data(), concealed.size());
  // Not silence: close to the tone's level (0.5 full scale, RMS ~11585) and pitch.
  EXPECT_GT(rms(concealed.data(), concealed.size()), 0.5 * 11585);
  EXPECT_NEAR(dominant_frequency(concealed.data(), concealed.size(), rate), 1000, 50);

  // Audio again, then a second gap: concealed from the new audio.
  round_trip(*encoder, *decoder, 10);
  std::fill(concealed.begin(), concealed.end(), int16_t{0});
  decoder->conceal(concealed.data(), concealed.size());
  EXPECT_GT(rms(concealed.data(), concealed.size()), 0.5 * 11585);
  EXPECT_NEAR(dominant_frequency(concealed.data(), concealed.size(), rate), 1000, 50);
}

TEST_P(EachCodec, GarbagePayloadsNeverCrash) {
  auto decoder = make_decoder(GetParam());
  std::mt19937 random(42);
  std::vector<uint8_t> payload(200);
  std::vector<int16_t> pcm(kMaxFrameSamples * 6);
  for (size_t size = 0; size <= payload.size(); ++size) {
    for (int round = 0; round < 5; ++round) {
      for (auto& b : payload) b = static_cast<uint8_t>(random());
      size_t got = decoder->decode(payload.data(), size, pcm.data(), pcm.size());
      EXPECT_LE(got, pcm.size());
      switch (GetParam()) {
        case Codec::Pcmu:
        case Codec::Pcma:
          EXPECT_EQ(got, size);
          break;
        case Codec::G722:
          EXPECT_EQ(got, 2 * size);
          break;
        case Codec::Opus:
          EXPECT_TRUE(size > 0 || got == 0) << "an empty payload must not conceal";
          EXPECT_EQ(got % 120, 0u) << "not a multiple of 2.5 ms";
          break;
      }
    }
  }
  // Too little room for the decoded audio is a failure, not an overflow.
  uint8_t one_frame[160] = {};
  EXPECT_EQ(decoder->decode(one_frame, sizeof one_frame, pcm.data(), 10), 0u);
  EXPECT_EQ(decoder->decode(nullptr, 10, pcm.data(), pcm.size()), 0u);
  decoder->conceal(pcm.data(), 7);  // odd sizes are fine too
}

INSTANTIATE_TEST_SUITE_P(Codecs, EachCodec, ::testing::Values(Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::Opus),
                         [](const auto& info) { return std::string(describe(info.param).name); });

TEST(Codec, Descriptions) {
  EXPECT_EQ(describe(Codec::Pcmu).static_payload_type, 0);
  EXPECT_EQ(describe(Codec::Pcma).static_payload_type, 8);
  EXPECT_EQ(describe(Codec::G722).static_payload_type, 9);
  EXPECT_EQ(describe(Codec::G722).rtp_clock, 8000);
  EXPECT_EQ(describe(Codec::G722).pcm_rate, 16000);
  EXPECT_EQ(describe(Codec::Opus).static_payload_type, -1);
  EXPECT_EQ(describe(Codec::Opus).name, "opus");
  EXPECT_EQ(describe(Codec::Opus).rtp_clock, 48000);
  EXPECT_EQ(describe(Codec::Opus).channels, 2);
}

TEST(Codec, FromSdp) {
  EXPECT_EQ(codec_from_sdp("PCMU", 8000), Codec::Pcmu);
  EXPECT_EQ(codec_from_sdp("pcmu", 8000), Codec::Pcmu);
  EXPECT_EQ(codec_from_sdp("PCMA", 8000), Codec::Pcma);
  EXPECT_EQ(codec_from_sdp("G722", 8000), Codec::G722);
  EXPECT_EQ(codec_from_sdp("g722", 8000), Codec::G722);
  EXPECT_EQ(codec_from_sdp("opus", 48000), Codec::Opus);
  EXPECT_EQ(codec_from_sdp("OPUS", 48000), Codec::Opus);
  EXPECT_FALSE(codec_from_sdp("G722", 16000));  // the clock must be the RTP clock
  EXPECT_FALSE(codec_from_sdp("opus", 8000));
  EXPECT_FALSE(codec_from_sdp("PCMU", 16000));
  EXPECT_FALSE(codec_from_sdp("telephone-event", 8000));
  EXPECT_FALSE(codec_from_sdp("PCM", 8000));
  EXPECT_FALSE(codec_from_sdp("", 8000));
}

TEST(Codec, OpusBitrateShapesThePayload) {
  auto low = make_encoder(Codec::Opus, 12000);
  auto high = make_encoder(Codec::Opus, 64000);
  ToneGenerator tone(440, 48000);
  std::vector<int16_t> pcm(frame_samples(48000));
  std::vector<uint8_t> payload(1500);
  size_t low_bytes = 0, high_bytes = 0;
  for (int i = 0; i < 20; ++i) {
    tone.fill(pcm.data(), pcm.size());
    low_bytes += low->encode(pcm.data(), payload.data(), payload.size());
    high_bytes += high->encode(pcm.data(), payload.data(), payload.size());
  }
  EXPECT_LT(low_bytes, high_bytes);
  EXPECT_EQ(low->encode(pcm.data(), payload.data(), 0), 0u);
}

TEST(Codec, G711TablesMatchSpandspForEverySample) {
  for (Codec codec : {Codec::Pcmu, Codec::Pcma}) {
    auto enc = make_encoder(codec);
    auto dec = make_decoder(codec);
    const size_t n = frame_samples(8000);
    std::vector<int16_t> pcm(n), back(n);
    std::vector<uint8_t> out(n);
    for (int start = -32768; start < 32768; start += static_cast<int>(n)) {
      for (size_t i = 0; i < n; ++i) pcm[i] = static_cast<int16_t>(std::min(start + static_cast<int>(i), 32767));
      ASSERT_EQ(enc->encode(pcm.data(), out.data(), out.size()), n);
      for (size_t i = 0; i < n; ++i) {
        uint8_t want = codec == Codec::Pcmu ? linear_to_ulaw(pcm[i]) : linear_to_alaw(pcm[i]);
        ASSERT_EQ(out[i], want) << "sample " << pcm[i];
      }
    }
    std::vector<uint8_t> all(256);
    for (int b = 0; b < 256; ++b) all[static_cast<size_t>(b)] = static_cast<uint8_t>(b);
    std::vector<int16_t> linear(256);
    ASSERT_EQ(dec->decode(all.data(), all.size(), linear.data(), linear.size()), 256u);
    for (int b = 0; b < 256; ++b)
      EXPECT_EQ(linear[static_cast<size_t>(b)],
                codec == Codec::Pcmu ? ulaw_to_linear(static_cast<uint8_t>(b)) : alaw_to_linear(static_cast<uint8_t>(b)));
  }
}
