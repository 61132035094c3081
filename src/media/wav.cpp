#include "media/wav.h"

#include <sndfile.h>

#include <stdexcept>

#include "media/audio.h"
#include "media/resampler.h"

namespace confab::media {

namespace {

[[noreturn]] void fail(const std::string& path, SNDFILE* file) {
  throw std::runtime_error(path + ": " + sf_strerror(file));
}

// Interleaved frames of `channels` to mono by averaging.
std::vector<int16_t> downmix(const std::vector<int16_t>& frames, int channels) {
  if (channels == 1) return frames;
  std::vector<int16_t> mono(frames.size() / static_cast<size_t>(channels));
  for (size_t i = 0; i < mono.size(); ++i) {
    int32_t sum = 0;
    for (int c = 0; c < channels; ++c) sum += frames[i * static_cast<size_t>(channels) + static_cast<size_t>(c)];
    mono[i] = saturate(sum / channels);
  }
  return mono;
}

std::vector<int16_t> resample(const std::vector<int16_t>& in, int in_rate, int out_rate) {
  if (in_rate == out_rate || in.empty()) return in;
  auto expected = static_cast<size_t>(static_cast<int64_t>(in.size()) * out_rate / in_rate);
  Resampler resampler(in_rate, out_rate);
  std::vector<int16_t> out(expected + static_cast<size_t>(out_rate) / 10);
  size_t written = resampler.process(in.data(), in.size(), out.data(), out.size());
  // Push the filter's tail out with 20 ms of silence, then keep the exact length.
  std::vector<int16_t> silence(static_cast<size_t>(in_rate) / 50);
  written += resampler.process(silence.data(), silence.size(), out.data() + written, out.size() - written);
  out.resize(std::min(written, expected));
  return out;
}

}  // namespace

std::vector<int16_t> read_wav(const std::string& path, int rate) {
  if (rate <= 0) throw std::invalid_argument(path + ": bad sample rate");
  SF_INFO info{};
  SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
  if (!file) fail(path, nullptr);
  if (info.channels <= 0 || info.samplerate <= 0 || info.frames < 0) {
    sf_close(file);
    throw std::runtime_error(path + ": no audio");
  }
  // Float files hold -1..1: scale them to the 16-bit range rather than truncate.
  sf_command(file, SFC_SET_SCALE_FLOAT_INT_READ, nullptr, SF_TRUE);
  std::vector<int16_t> frames(static_cast<size_t>(info.frames) * static_cast<size_t>(info.channels));
  sf_count_t got = sf_readf_short(file, frames.data(), info.frames);
  sf_close(file);
  if (got < 0) throw std::runtime_error(path + ": read error");
  frames.resize(static_cast<size_t>(got) * static_cast<size_t>(info.channels));
  return resample(downmix(frames, info.channels), info.samplerate, rate);
}

struct WavWriter::File {
  SNDFILE* sf = nullptr;
};

WavWriter::WavWriter(const std::string& path, int rate) : file_(std::make_unique<File>()), rate_(rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  file_->sf = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!file_->sf) fail(path, nullptr);
}

WavWriter::~WavWriter() {
  if (file_ && file_->sf) sf_close(file_->sf);
}

void WavWriter::write(const int16_t* pcm, size_t samples) {
  if (samples > 0) sf_write_short(file_->sf, pcm, static_cast<sf_count_t>(samples));
}

// Rewrites the header's lengths too, so the file is complete as far as written.
void WavWriter::flush() {
  sf_command(file_->sf, SFC_UPDATE_HEADER_NOW, nullptr, 0);
  sf_write_sync(file_->sf);
}

}  // namespace confab::media
