#include "media/codec.h"

#include <opus.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include "media/audio.h"

// spandsp's individual headers: telephony.h defines SPAN_DECLARE, g711.h's inline
// encoders need top_bit() from bit_operations.h. The umbrella <spandsp.h> is avoided.
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <spandsp/plc.h>

namespace confab::media {

namespace {

constexpr std::array<CodecDescription, 4> kCodecs{{
    {Codec::Pcmu, "PCMU", 8000, 1, 0, 8000},
    {Codec::Pcma, "PCMA", 8000, 1, 8, 8000},
    {Codec::G722, "G722", 8000, 1, 9, 16000},
    {Codec::Opus, "opus", 48000, 2, -1, 48000},
}};

// Longest payload any decoder accepts (Opus: 120 ms of the largest frames).
constexpr size_t kMaxPayload = 8192;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// spandsp's generic concealment, fed with every decoded frame.
//
// spandsp 0.0.6's plc_fillin() starts a gap by rotating its history buffer with an
// overlapping memcpy (undefined behaviour, caught by ASan) unless the history happens
// to start at offset 0. So we keep our own copy of the last PLC_HISTORY_LEN samples
// and, at the start of each gap, reload a fresh state with it in one plc_rx() call,
// which leaves the history aligned. Within a gap and after it, spandsp runs as usual.
class Concealer {
 public:
  Concealer() { plc_init(&state_); }
  void received(int16_t* pcm, size_t samples) {
    plc_rx(&state_, pcm, static_cast<int>(samples));  // smooths the join after a gap
    remember(pcm, samples);
    concealing_ = false;
  }
  void fill(int16_t* pcm, size_t samples) {
    if (samples == 0) return;
    if (!concealing_) {
      plc_init(&state_);
      plc_rx(&state_, history_.data(), static_cast<int>(history_.size()));
      concealing_ = true;
    }
    plc_fillin(&state_, pcm, static_cast<int>(samples));
    remember(pcm, samples);
  }

 private:
  void remember(const int16_t* pcm, size_t samples) {
    if (samples >= history_.size()) {
      std::copy_n(pcm + samples - history_.size(), history_.size(), history_.begin());
      return;
    }
    std::copy(history_.begin() + static_cast<std::ptrdiff_t>(samples), history_.end(), history_.begin());
    std::copy_n(pcm, samples, history_.end() - static_cast<std::ptrdiff_t>(samples));
  }

  plc_state_t state_{};
  std::array<int16_t, PLC_HISTORY_LEN> history_{};
  bool concealing_ = false;
};

// ---- G.711 ----

// spandsp's G.711 conversions, tabulated once: a mixer encodes and decodes
// every leg every 20 ms, and a table lookup per sample is several times cheaper
// than spandsp's bit arithmetic (the results are spandsp's, bit for bit).
struct G711Tables {
  std::array<uint8_t, 65536> ulaw, alaw;           // by uint16_t(sample)
  std::array<int16_t, 256> ulaw_linear, alaw_linear;
  G711Tables() {
    for (int v = 0; v < 65536; ++v) {
      auto sample = static_cast<int16_t>(static_cast<uint16_t>(v));
      ulaw[static_cast<size_t>(v)] = linear_to_ulaw(sample);
      alaw[static_cast<size_t>(v)] = linear_to_alaw(sample);
    }
    for (int b = 0; b < 256; ++b) {
      ulaw_linear[static_cast<size_t>(b)] = ulaw_to_linear(static_cast<uint8_t>(b));
      alaw_linear[static_cast<size_t>(b)] = alaw_to_linear(static_cast<uint8_t>(b));
    }
  }
  static const G711Tables& get() {
    static const G711Tables tables;
    return tables;
  }
};

class G711Encoder final : public Encoder {
 public:
  explicit G711Encoder(Codec codec)
      : codec_(codec), table_(codec == Codec::Pcmu ? G711Tables::get().ulaw.data() : G711Tables::get().alaw.data()) {}
  Codec codec() const override { return codec_; }
  size_t encode(const int16_t* pcm, uint8_t* out, size_t capacity) override {
    size_t n = frame_samples(8000);
    if (capacity < n) return 0;
    for (size_t i = 0; i < n; ++i) out[i] = table_[static_cast<uint16_t>(pcm[i])];
    return n;
  }

 private:
  Codec codec_;
  const uint8_t* table_;
};

class G711Decoder final : public Decoder {
 public:
  explicit G711Decoder(Codec codec)
      : codec_(codec),
        table_(codec == Codec::Pcmu ? G711Tables::get().ulaw_linear.data() : G711Tables::get().alaw_linear.data()) {}
  Codec codec() const override { return codec_; }
  size_t decode(const uint8_t* payload, size_t size, int16_t* pcm, size_t capacity) override {
    if (payload == nullptr || size == 0 || size > capacity || size > kMaxPayload) return 0;
    for (size_t i = 0; i < size; ++i) pcm[i] = table_[payload[i]];
    plc_.received(pcm, size);
    return size;
  }
  void conceal(int16_t* pcm, size_t samples) override { plc_.fill(pcm, samples); }

 private:
  Codec codec_;
  const int16_t* table_;
  Concealer plc_;
};

// ---- G.722 at 64 kbit/s, 16 kHz PCM (one byte per two samples) ----

class G722Encoder final : public Encoder {
 public:
  G722Encoder() : state_(g722_encode_init(nullptr, 64000, 0)) {
    if (!state_) throw std::runtime_error("g722_encode_init failed");
  }
  ~G722Encoder() override { g722_encode_free(state_); }
  G722Encoder(const G722Encoder&) = delete;
  G722Encoder& operator=(const G722Encoder&) = delete;
  Codec codec() const override { return Codec::G722; }
  size_t encode(const int16_t* pcm, uint8_t* out, size_t capacity) override {
    size_t n = frame_samples(16000);
    if (capacity < n / 2) return 0;
    int written = g722_encode(state_, out, pcm, static_cast<int>(n));
    return written > 0 ? static_cast<size_t>(written) : 0;
  }

 private:
  g722_encode_state_t* state_;
};

class G722Decoder final : public Decoder {
 public:
  G722Decoder() : state_(g722_decode_init(nullptr, 64000, 0)) {
    if (!state_) throw std::runtime_error("g722_decode_init failed");
  }
  ~G722Decoder() override { g722_decode_free(state_); }
  G722Decoder(const G722Decoder&) = delete;
  G722Decoder& operator=(const G722Decoder&) = delete;
  Codec codec() const override { return Codec::G722; }
  size_t decode(const uint8_t* payload, size_t size, int16_t* pcm, size_t capacity) override {
    if (payload == nullptr || size == 0 || size > kMaxPayload || size * 2 > capacity) return 0;
    int samples = g722_decode(state_, pcm, payload, static_cast<int>(size));
    if (samples <= 0) return 0;
    plc_.received(pcm, static_cast<size_t>(samples));
    return static_cast<size_t>(samples);
  }
  // spandsp's PLC is tuned for 8 kHz; at 16 kHz its pitch search covers 133-400 Hz.
  void conceal(int16_t* pcm, size_t samples) override { plc_.fill(pcm, samples); }

 private:
  g722_decode_state_t* state_;
  Concealer plc_;
};

// ---- Opus: mono, 48 kHz ----

class OpusEncoderImpl final : public Encoder {
 public:
  explicit OpusEncoderImpl(int bitrate) {
    int error = OPUS_OK;
    state_ = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &error);
    if (error != OPUS_OK || !state_) throw std::runtime_error(std::string("opus_encoder_create: ") + opus_strerror(error));
    opus_encoder_ctl(state_, OPUS_SET_BITRATE(bitrate));
    opus_encoder_ctl(state_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    // Complexity 5 of 10: about half the CPU of libopus's default for a loss in
    // quality hardly audible on voice; a mixer runs one encoder per leg.
    opus_encoder_ctl(state_, OPUS_SET_COMPLEXITY(5));
  }
  ~OpusEncoderImpl() override { opus_encoder_destroy(state_); }
  OpusEncoderImpl(const OpusEncoderImpl&) = delete;
  OpusEncoderImpl& operator=(const OpusEncoderImpl&) = delete;
  Codec codec() const override { return Codec::Opus; }
  size_t encode(const int16_t* pcm, uint8_t* out, size_t capacity) override {
    auto max_bytes = static_cast<opus_int32>(std::min<size_t>(capacity, 1275));
    opus_int32 n = opus_encode(state_, pcm, static_cast<int>(frame_samples(48000)), out, max_bytes);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }

 private:
  OpusEncoder* state_ = nullptr;
};

class OpusDecoderImpl final : public Decoder {
 public:
  OpusDecoderImpl() {
    int error = OPUS_OK;
    state_ = opus_decoder_create(48000, 1, &error);
    if (error != OPUS_OK || !state_) throw std::runtime_error(std::string("opus_decoder_create: ") + opus_strerror(error));
  }
  ~OpusDecoderImpl() override { opus_decoder_destroy(state_); }
  OpusDecoderImpl(const OpusDecoderImpl&) = delete;
  OpusDecoderImpl& operator=(const OpusDecoderImpl&) = delete;
  Codec codec() const override { return Codec::Opus; }
  size_t decode(const uint8_t* payload, size_t size, int16_t* pcm, size_t capacity) override {
    // An empty payload would make opus_decode conceal instead: reject it.
    if (payload == nullptr || size == 0 || size > kMaxPayload || capacity == 0) return 0;
    int max_samples = static_cast<int>(std::min<size_t>(capacity, kMaxOpusSamples));
    int n = opus_decode(state_, payload, static_cast<opus_int32>(size), pcm, max_samples, 0);
    return n > 0 ? static_cast<size_t>(n) : 0;
  }
  // Opus conceals in multiples of 2.5 ms; a ragged tail comes from one extra block.
  void conceal(int16_t* pcm, size_t samples) override {
    constexpr size_t kBlock = 120;  // 2.5 ms at 48 kHz
    while (samples > 0) {
      size_t chunk = std::min(samples, kMaxFrameSamples) / kBlock * kBlock;
      if (chunk == 0) {
        std::array<int16_t, kBlock> tail{};
        int n = opus_decode(state_, nullptr, 0, tail.data(), static_cast<int>(kBlock), 0);
        if (n < static_cast<int>(samples)) tail.fill(0);
        std::copy_n(tail.begin(), samples, pcm);
        return;
      }
      int n = opus_decode(state_, nullptr, 0, pcm, static_cast<int>(chunk), 0);
      if (n != static_cast<int>(chunk)) std::fill_n(pcm, chunk, int16_t{0});
      pcm += chunk;
      samples -= chunk;
    }
  }

 private:
  static constexpr size_t kMaxOpusSamples = 5760;  // 120 ms at 48 kHz
  OpusDecoder* state_ = nullptr;
};

}  // namespace

const CodecDescription& describe(Codec codec) {
  for (auto& d : kCodecs)
    if (d.codec == codec) return d;
  throw std::invalid_argument("unknown codec");
}

std::optional<Codec> codec_from_sdp(std::string_view encoding_name, int clock_rate) {
  for (auto& d : kCodecs)
    if (iequals(d.name, encoding_name) && d.rtp_clock == clock_rate) return d.codec;
  return std::nullopt;
}

std::unique_ptr<Encoder> make_encoder(Codec codec, int opus_bitrate) {
  switch (codec) {
    case Codec::Pcmu:
    case Codec::Pcma:
      return std::make_unique<G711Encoder>(codec);
    case Codec::G722:
      return std::make_unique<G722Encoder>();
    case Codec::Opus:
      return std::make_unique<OpusEncoderImpl>(opus_bitrate);
  }
  throw std::invalid_argument("unknown codec");
}

std::unique_ptr<Decoder> make_decoder(Codec codec) {
  switch (codec) {
    case Codec::Pcmu:
    case Codec::Pcma:
      return std::make_unique<G711Decoder>(codec);
    case Codec::G722:
      return std::make_unique<G722Decoder>();
    case Codec::Opus:
      return std::make_unique<OpusDecoderImpl>();
  }
  throw std::invalid_argument("unknown codec");
}

uint32_t rtp_duration(Codec codec, const uint8_t* payload, size_t size) {
  if (!payload || size == 0) return 0;
  switch (codec) {
    case Codec::Pcmu:
    case Codec::Pcma:
    case Codec::G722:
      return static_cast<uint32_t>(size);
    case Codec::Opus: {
      int n = opus_packet_get_nb_samples(payload, static_cast<opus_int32>(size), 48000);
      return n > 0 ? static_cast<uint32_t>(n) : 0;
    }
  }
  return 0;
}

}  // namespace confab::media
