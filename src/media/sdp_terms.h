// From SDP offer/answer (sip/sdp.h) to RTP (media/audio_stream.h): the terms a
// negotiated audio stream runs on, and the origin (o= line) of the descriptions
// one side of a dialog sends. What the mixer and the phone share. It is a
// library of its own (confab_media_sdp, on confab_media and confab_sip), so
// confab_media itself stays free of SIP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "media/audio_stream.h"
#include "sip/sdp.h"

namespace confab::media {

// The stream terms of what an offer/answer exchange settled: codec, payload
// types, where RTP goes, whether we send and receive (latch stays Off: the
// caller's policy). nullopt for a codec we do not have or a connection address
// that is not numeric, with the reason in *error if given.
std::optional<StreamTerms> stream_terms(const sip::AudioTerms& terms, std::string* error = nullptr);

// Seconds since the Unix epoch.
uint64_t now_seconds();

// The origin of the descriptions one side of a dialog sends (RFC 3264 section
// 8): one session id for the whole dialog, taken from the clock at the first
// description, and a version one up on every description.
struct SdpOrigin {
  uint64_t session_id = 0;  // 0: nothing sent yet
  uint64_t version = 0;     // of the last description sent
  // `sdp` as the next description of this side, sent by `user` (the o= user name), as text.
  std::string stamp(sip::SessionDescription sdp, std::string_view user);
};

}  // namespace confab::media
