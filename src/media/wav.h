// WAV files (libsndfile): the phone plays and records 16-bit mono PCM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace confab::media {

// Reads a whole file as mono 16-bit at `rate` (mixing down channels and
// resampling as needed). Throws std::runtime_error naming the file on failure.
std::vector<int16_t> read_wav(const std::string& path, int rate);

class WavWriter {
 public:
  // Creates/truncates `path` as 16-bit mono PCM at `rate`; throws on failure.
  WavWriter(const std::string& path, int rate);
  ~WavWriter();
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;
  void write(const int16_t* pcm, size_t samples);
  void flush();
  int rate() const { return rate_; }

 private:
  struct File;
  std::unique_ptr<File> file_;
  int rate_;
};

}  // namespace confab::media
