#include "media/sdp_terms.h"

#include <chrono>

#include "media/codec.h"

namespace confab::media {

std::optional<StreamTerms> stream_terms(const sip::AudioTerms& t, std::string* error) {
  auto fail = [error](std::string why) -> std::optional<StreamTerms> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  auto codec = codec_from_sdp(t.codec.encoding, t.codec.clock_rate);
  if (!codec) return fail("unsupported codec " + t.codec.encoding);
  auto remote = Endpoint::from(t.remote_address, t.remote_port);
  if (!remote) return fail("connection address must be numeric: " + t.remote_address);
  StreamTerms s;
  s.codec = *codec;
  s.payload_type = t.codec.payload_type;
  if (t.telephone_event) s.telephone_event_pt = t.telephone_event->payload_type;
  s.remote = *remote;
  s.send = sip::sends(t.direction);
  s.receive = sip::receives(t.direction);
  return s;
}

uint64_t now_seconds() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string SdpOrigin::stamp(sip::SessionDescription sdp, std::string_view user) {
  if (session_id == 0) session_id = now_seconds();
  sdp.session_id = session_id;
  sdp.session_version = ++version;
  sdp.origin_user = std::string(user);
  return sdp.str();
}

}  // namespace confab::media
