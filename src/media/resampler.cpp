#include "media/resampler.h"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace confab::media {

Resampler::Resampler(int in_rate, int out_rate, int quality) : in_rate_(in_rate), out_rate_(out_rate) {
  if (in_rate <= 0 || out_rate <= 0) throw std::invalid_argument("Resampler: bad sample rate");
  if (in_rate == out_rate) return;  // a plain copy
  int error = RESAMPLER_ERR_SUCCESS;
  state_ = speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate), static_cast<spx_uint32_t>(out_rate),
                                std::clamp(quality, 0, 10), &error);
  if (!state_ || error != RESAMPLER_ERR_SUCCESS)
    throw std::runtime_error(std::string("speex_resampler_init: ") + speex_resampler_strerror(error));
}

Resampler::~Resampler() {
  if (state_) speex_resampler_destroy(state_);
}

size_t Resampler::process(const int16_t* in, size_t in_samples, int16_t* out, size_t capacity) {
  if (!state_) {
    size_t n = std::min(in_samples, capacity);
    std::copy_n(in, n, out);
    return n;
  }
  // speex takes 32-bit counts; go in slices and stop when `out` is full.
  size_t written = 0;
  while (in_samples > 0 && written < capacity) {
    auto in_len = static_cast<spx_uint32_t>(std::min<size_t>(in_samples, 1u << 20));
    auto out_len = static_cast<spx_uint32_t>(std::min<size_t>(capacity - written, 1u << 20));
    if (speex_resampler_process_int(state_, 0, in, &in_len, out + written, &out_len) != RESAMPLER_ERR_SUCCESS) break;
    if (in_len == 0 && out_len == 0) break;
    in += in_len;
    in_samples -= in_len;
    written += out_len;
  }
  return written;
}

}  // namespace confab::media
