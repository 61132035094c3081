// The computer's sound card for `confab phone --sound-card`, through PortAudio's
// default input and output devices (mono, 16-bit). The phone's media thread
// swaps one 20 ms frame per tick with it and never waits on the device: its
// clock and the tick drift apart slowly, so a microphone backlog of more than
// three frames is skipped, a frame not captured yet is silence, and a frame the
// speaker has no room for is dropped.
#pragma once

#include <cstddef>
#include <cstdint>

typedef void PaStream;

namespace confab::phone {

class SoundCard {
 public:
  // Throws std::runtime_error with PortAudio's reason (no device, rate refused, ...).
  SoundCard(int rate, size_t frame_samples);
  ~SoundCard();
  SoundCard(const SoundCard&) = delete;
  SoundCard& operator=(const SoundCard&) = delete;

  // The next frame from the microphone (silence if it has none yet).
  void capture(int16_t* out);
  // One frame to the speaker.
  void play(const int16_t* frame);

 private:
  PaStream* stream_ = nullptr;
  size_t frame_;
};

}  // namespace confab::phone
