// The sample loops of a mix: sum the legs' 16-bit frames into 32-bit
// accumulators (they cannot overflow below 65536 legs at full scale),
// take each leg's own contribution back out (N-1) and saturate to 16 bits.
//
// They run for every leg every 20 ms, so they are written for the vectorizer:
// the release build is -O2, where GCC 12 only vectorizes a loop whose trip
// count is a known multiple of the vector width ("very cheap" cost model) and
// whose arrays cannot alias. Hence fixed-length blocks (every frame length the
// mixer uses, 160/320/960, is a multiple of kBlock; a scalar tail handles any
// other) and __restrict pointers (the arrays never overlap).
//
// The two saturating loops have an SSE2 form (every x86-64 has SSE2): GCC 12
// vectorizes the clamp to 16 bits as compares and blends, ~5 instructions a
// sample (callgrind: half of the mixer's own work), where packssdw saturates
// eight samples in one. Clang finds packssdw itself; GCC does not.
#pragma once

#include <cstddef>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "media/audio.h"

namespace confab::mixer {

inline constexpr size_t kMixBlock = 16;

// sum[i] = frame[i]: the first contributor, instead of clearing and adding.
inline void mix_assign(int32_t* __restrict sum, const int16_t* __restrict frame, size_t n) {
  size_t i = 0;
  for (; i + kMixBlock <= n; i += kMixBlock)
    for (size_t j = 0; j < kMixBlock; ++j) sum[i + j] = frame[i + j];
  for (; i < n; ++i) sum[i] = frame[i];
}

// sum[i] += frame[i]
inline void mix_add(int32_t* __restrict sum, const int16_t* __restrict frame, size_t n) {
  size_t i = 0;
  for (; i + kMixBlock <= n; i += kMixBlock)
    for (size_t j = 0; j < kMixBlock; ++j) sum[i + j] += frame[i + j];
  for (; i < n; ++i) sum[i] += frame[i];
}

// frame[i] = saturate(frame[i] * gain_q12 / 4096): a leg's gain, 12 fractional bits.
inline void mix_gain(int16_t* __restrict frame, int32_t gain_q12, size_t n) {
  size_t i = 0;
  for (; i + kMixBlock <= n; i += kMixBlock)
    for (size_t j = 0; j < kMixBlock; ++j) frame[i + j] = media::saturate((frame[i + j] * gain_q12) >> 12);
  for (; i < n; ++i) frame[i] = media::saturate((frame[i] * gain_q12) >> 12);
}

// acc[i] = sum[i] - own[i]: a listening leg's N-1, kept at 32 bits until the
// mixes it listens to are added.
inline void mix_copy_minus(int32_t* __restrict acc, const int32_t* __restrict sum, const int16_t* __restrict own,
                           size_t n) {
  size_t i = 0;
  for (; i + kMixBlock <= n; i += kMixBlock)
    for (size_t j = 0; j < kMixBlock; ++j) acc[i + j] = sum[i + j] - own[i + j];
  for (; i < n; ++i) acc[i] = sum[i] - own[i];
}

// acc[i] += frame[i] * gain_q12 / 4096: a listened mix at its link's gain (up to
// +12 dB, so the product stays well inside 32 bits).
inline void mix_add_scaled(int32_t* __restrict acc, const int16_t* __restrict frame, int32_t gain_q12, size_t n) {
  size_t i = 0;
  for (; i + kMixBlock <= n; i += kMixBlock)
    for (size_t j = 0; j < kMixBlock; ++j) acc[i + j] += (frame[i + j] * gain_q12) >> 12;
  for (; i < n; ++i) acc[i] += (frame[i] * gain_q12) >> 12;
}

#if defined(__SSE2__)
namespace sse2 {
inline __m128i load(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline void store(void* p, __m128i v) { _mm_storeu_si128(static_cast<__m128i*>(p), v); }
// Eight samples from 16 to 32 bits, sign-extended (low four, high four).
inline __m128i widen_low(__m128i v) { return _mm_srai_epi32(_mm_unpacklo_epi16(v, v), 16); }
inline __m128i widen_high(__m128i v) { return _mm_srai_epi32(_mm_unpackhi_epi16(v, v), 16); }
}  // namespace sse2
#endif

// out[i] = saturate(sum[i]): the full mix, for legs that contributed nothing.
inline void mix_saturate(int16_t* __restrict out, const int32_t* __restrict sum, size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 8 <= n; i += 8) sse2::store(out + i, _mm_packs_epi32(sse2::load(sum + i), sse2::load(sum + i + 4)));
#else
  for (; i + kMixBlock <= n; i += kMixBlock)
    for (size_t j = 0; j < kMixBlock; ++j) out[i + j] = media::saturate(sum[i + j]);
#endif
  for (; i < n; ++i) out[i] = media::saturate(sum[i]);
}

// out[i] = saturate(sum[i] - own[i]): everyone but the leg itself (N-1).
inline void mix_minus(int16_t* __restrict out, const int32_t* __restrict sum, const int16_t* __restrict own,
                      size_t n) {
  size_t i = 0;
#if defined(__SSE2__)
  for (; i + 8 <= n; i += 8) {
    __m128i mine = sse2::load(own + i);
    __m128i low = _mm_sub_epi32(sse2::load(sum + i), sse2::widen_low(mine));
    __m128i high = _mm_sub_epi32(sse2::load(sum + i + 4), sse2::widen_high(mine));
    sse2::store(out + i, _mm_packs_epi32(low, high));
  }
#else
  for (; i + kMixBlock <= n; i += kMixBlock)
    for (size_t j = 0; j < kMixBlock; ++j) out[i + j] = media::saturate(sum[i + j] - own[i + j]);
#endif
  for (; i < n; ++i) out[i] = media::saturate(sum[i] - own[i]);
}

}  // namespace confab::mixer
