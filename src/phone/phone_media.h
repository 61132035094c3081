// The phone's media thread: every 20 ms it sends the next frame of its source
// (a tone, a WAV file or the sound card's microphone) on the current call's
// stream, plays what it heard on the sound card if it has one, and records what it
// heard, one frame per tick, so the recording follows the wall clock: a gap in
// what arrived is silence in the file, never squeezed out.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "media/audio_stream.h"
#include "media/tone.h"
#include "media/wav.h"
#include "phone/sound_card.h"

namespace confab::phone {

struct MediaSource {
  double tone_hz = 0;              // > 0: a sine tone
  double amplitude = 0.3;          // of full scale
  std::string wav_file;            // or this file, looped
  bool sound_card = false;         // or the microphone (and what is heard goes to the speaker)
};

class PhoneMedia {
 public:
  static constexpr int kRate = 16000;  // source and recording rate
  PhoneMedia(const MediaSource& source, const std::string& record_file);
  ~PhoneMedia();
  PhoneMedia(const PhoneMedia&) = delete;
  PhoneMedia& operator=(const PhoneMedia&) = delete;

  // The stream that carries audio now (nullptr: none). Thread-safe.
  void set_stream(std::shared_ptr<media::AudioStream> stream);
  void set_muted(bool muted) { muted_ = muted; }
  // Milliseconds since the recording started: the recording's own time axis.
  uint64_t elapsed_ms() const;
  // Unix time (ms) at which the recording started.
  uint64_t epoch_ms() const { return epoch_ms_; }
  void start();
  void stop();

 private:
  void run();
  void next_source_frame(int16_t* out);

  std::mutex mutex_;
  std::shared_ptr<media::AudioStream> stream_;
  std::atomic<bool> muted_{false};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::unique_ptr<media::ToneGenerator> tone_;
  std::vector<int16_t> wav_;
  size_t wav_pos_ = 0;
  std::unique_ptr<media::WavWriter> recorder_;
  std::unique_ptr<SoundCard> sound_card_;
  int16_t mic_[media::kMaxFrameSamples] = {};  // this tick's frame from the sound card
  std::atomic<uint64_t> start_ns_{0};
  uint64_t epoch_ms_ = 0;
};

}  // namespace confab::phone
