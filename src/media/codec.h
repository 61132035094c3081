// Audio codecs (PCMU, PCMA, G.722 via spandsp; Opus via libopus): one encoder or
// decoder object per RTP stream, one 20 ms frame per call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace confab::media {

enum class Codec { Pcmu, Pcma, G722, Opus };

struct CodecDescription {
  Codec codec;
  std::string_view name;  // SDP encoding name as sent: "PCMU", "PCMA", "G722", "opus"
  int rtp_clock;          // RTP timestamp rate (G.722: 8000 per RFC 3551, Opus: 48000)
  int channels;           // as written in SDP rtpmap (Opus: 2, RFC 7587)
  int static_payload_type;  // 0, 8, 9; -1 for dynamic (Opus)
  int pcm_rate;           // the PCM rate the encoder takes and the decoder gives
};

const CodecDescription& describe(Codec codec);
// Looks a codec up by SDP rtpmap name (case-insensitive) and clock rate.
std::optional<Codec> codec_from_sdp(std::string_view encoding_name, int clock_rate);

class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual Codec codec() const = 0;
  int pcm_rate() const { return describe(codec()).pcm_rate; }
  // Encodes one 20 ms frame (frame_samples(pcm_rate()) samples). Returns the
  // payload size written to `out`, 0 on failure.
  virtual size_t encode(const int16_t* pcm, uint8_t* out, size_t capacity) = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual Codec codec() const = 0;
  int pcm_rate() const { return describe(codec()).pcm_rate; }
  // Decodes one RTP payload (any ptime up to 120 ms) into `pcm`. Returns the
  // number of samples written, 0 for a payload that cannot be decoded.
  virtual size_t decode(const uint8_t* payload, size_t size, int16_t* pcm, size_t capacity) = 0;
  // Fills `samples` samples for a lost packet (packet-loss concealment:
  // spandsp's PLC for G.711/G.722, Opus's own), continuing from the last audio.
  virtual void conceal(int16_t* pcm, size_t samples) = 0;
};

// How many RTP timestamp units one payload covers (its ptime in clock units):
// G.711 one byte per sample, G.722 one byte per 8 kHz tick, Opus from its TOC.
// 0 for a payload that cannot be measured.
uint32_t rtp_duration(Codec codec, const uint8_t* payload, size_t size);

// opus_bitrate: bits/s for Opus (ignored by the others).
std::unique_ptr<Encoder> make_encoder(Codec codec, int opus_bitrate = 48000);
std::unique_ptr<Decoder> make_decoder(Codec codec);

}  // namespace confab::media
