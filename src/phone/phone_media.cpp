#include "phone/phone_media.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <chrono>

namespace confab::phone {

namespace {
uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}
}  // namespace

PhoneMedia::PhoneMedia(const MediaSource& source, const std::string& record_file) {
  if (!source.wav_file.empty()) {
    wav_ = media::read_wav(source.wav_file, kRate);
    if (wav_.empty()) throw std::runtime_error(source.wav_file + ": no audio");
  } else if (source.tone_hz > 0) {
    tone_ = std::make_unique<media::ToneGenerator>(source.tone_hz, kRate, source.amplitude);
  } else if (source.sound_card) {
    sound_card_ = std::make_unique<SoundCard>(kRate, media::frame_samples(kRate));
  }
  if (!record_file.empty()) recorder_ = std::make_unique<media::WavWriter>(record_file, kRate);
}

PhoneMedia::~PhoneMedia() { stop(); }

void PhoneMedia::set_stream(std::shared_ptr<media::AudioStream> stream) {
  std::lock_guard lock(mutex_);
  stream_ = std::move(stream);
}

uint64_t PhoneMedia::elapsed_ms() const {
  uint64_t s = start_ns_;
  return s ? (monotonic_ns() - s) / 1000000ull : 0;
}

void PhoneMedia::start() {
  if (thread_.joinable()) return;
  start_ns_ = monotonic_ns();
  epoch_ms_ = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
  thread_ = std::thread([this] { run(); });
}

void PhoneMedia::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (recorder_) recorder_->flush();
}

void PhoneMedia::next_source_frame(int16_t* out) {
  const size_t n = media::frame_samples(kRate);
  if (tone_) {
    tone_->fill(out, n);
  } else if (sound_card_) {
    std::copy(mic_, mic_ + n, out);
  } else if (!wav_.empty()) {
    for (size_t i = 0; i < n; ++i) {
      out[i] = wav_[wav_pos_];
      wav_pos_ = (wav_pos_ + 1) % wav_.size();
    }
  } else {
    std::fill(out, out + n, 0);
  }
}

void PhoneMedia::run() {
  const uint64_t period = static_cast<uint64_t>(media::kFrameMs) * 1000000ull;
  const size_t n = media::frame_samples(kRate);
  const uint64_t start = start_ns_;
  uint64_t frames_written = 0, next = start;
  int16_t heard[media::kMaxFrameSamples], said[media::kMaxFrameSamples];
  while (!stopping_) {
    next += period;
    uint64_t now = monotonic_ns();
    std::shared_ptr<media::AudioStream> stream;
    {
      std::lock_guard lock(mutex_);
      stream = stream_;
    }
    std::fill(heard, heard + n, 0);
    if (sound_card_) sound_card_->capture(mic_);  // every tick, in a call or not: no stale backlog
    if (stream) {
      stream->receive(now / 1000000ull);
      stream->drain_rtcp();
      stream->pull(heard, kRate, /*conceal=*/false);
      next_source_frame(said);
      if (muted_) std::fill(said, said + n, 0);
      stream->push(said, kRate);
    }
    if (sound_card_) sound_card_->play(heard);
    if (recorder_) {
      // One frame per elapsed tick: if this thread fell behind, the missed time is silence.
      uint64_t due = (now - start) / period + 1;
      static const int16_t silence[media::kMaxFrameSamples] = {};
      while (frames_written + 1 < due) {
        recorder_->write(silence, n);
        ++frames_written;
      }
      recorder_->write(heard, n);
      ++frames_written;
    }
    uint64_t done = monotonic_ns();
    if (done >= next) {
      if (done > next + 5 * period) next = done;
      continue;
    }
    timespec until{static_cast<time_t>(next / 1000000000ull), static_cast<long>(next % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr);
  }
}

}  // namespace confab::phone
