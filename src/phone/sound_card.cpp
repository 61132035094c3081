#include "phone/sound_card.h"

#include <alsa/asoundlib.h>
#include <jack/jack.h>
#include <portaudio.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace confab::phone {

namespace {
std::runtime_error pa_error(const std::string& what, PaError e) {
  return std::runtime_error("sound card: " + what + ": " + Pa_GetErrorText(e));
}

// PortAudio probes every ALSA device and the JACK server when it starts; both
// libraries print each miss on stderr. Those go to the debug log instead.
void alsa_message(const char* file, int line, const char* function, int err, const char* fmt, ...) {
  char text[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  spdlog::debug("sound card: ALSA {}:{} {}: {} ({})", file, line, function, text, err);
}
void jack_message(const char* text) { spdlog::debug("sound card: JACK: {}", text); }
}  // namespace

SoundCard::SoundCard(int rate, size_t frame_samples) : frame_(frame_samples) {
  snd_lib_error_set_handler(alsa_message);
  jack_set_error_function(jack_message);
  jack_set_info_function(jack_message);
  if (PaError e = Pa_Initialize(); e != paNoError) throw pa_error("PortAudio", e);
  PaError e = Pa_OpenDefaultStream(&stream_, 1, 1, paInt16, rate, static_cast<unsigned long>(frame_), nullptr, nullptr);
  if (e == paNoError) e = Pa_StartStream(stream_);
  if (e != paNoError) {
    if (stream_) Pa_CloseStream(stream_);
    Pa_Terminate();
    throw pa_error("default input and output devices at " + std::to_string(rate) + " Hz", e);
  }
  const PaDeviceInfo* in = Pa_GetDeviceInfo(Pa_GetDefaultInputDevice());
  const PaDeviceInfo* out = Pa_GetDeviceInfo(Pa_GetDefaultOutputDevice());
  spdlog::info("sound card: microphone '{}', speaker '{}'", in ? in->name : "?", out ? out->name : "?");
}

SoundCard::~SoundCard() {
  Pa_StopStream(stream_);
  Pa_CloseStream(stream_);
  Pa_Terminate();
}

void SoundCard::capture(int16_t* out) {
  long available = Pa_GetStreamReadAvailable(stream_);
  if (available < static_cast<long>(frame_)) {
    std::fill(out, out + frame_, 0);
    return;
  }
  // Overflow errors still deliver the samples: read on regardless.
  for (; available >= static_cast<long>(4 * frame_); available -= static_cast<long>(frame_))
    Pa_ReadStream(stream_, out, static_cast<unsigned long>(frame_));  // the backlog: skipped
  Pa_ReadStream(stream_, out, static_cast<unsigned long>(frame_));
}

void SoundCard::play(const int16_t* frame) {
  if (Pa_GetStreamWriteAvailable(stream_) >= static_cast<long>(frame_))
    Pa_WriteStream(stream_, frame, static_cast<unsigned long>(frame_));
}

}  // namespace confab::phone
