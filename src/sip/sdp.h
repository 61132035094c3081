// SDP (RFC 4566) session descriptions as plain values, parsed with Sofia's SDP
// parser, and the RFC 3264 offer/answer rules for one audio stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::sip {

enum class Direction { SendRecv, SendOnly, RecvOnly, Inactive };
std::string_view direction_name(Direction d);  // "sendrecv", ...
// The direction an answerer uses for an offered one (RFC 3264 section 6.1).
Direction answer_direction(Direction offered, Direction wanted = Direction::SendRecv);
bool sends(Direction d);
bool receives(Direction d);

struct SdpFormat {
  int payload_type = 0;
  std::string encoding;  // as written: "PCMU", "opus", "telephone-event"
  int clock_rate = 8000;
  int channels = 1;
  std::string fmtp;
  bool same_codec(const SdpFormat& other) const;  // name (case-insensitive), clock, channels
};

struct SdpMedia {
  std::string type = "audio";
  uint16_t port = 0;  // 0: rejected / disabled
  std::string protocol = "RTP/AVP";
  std::vector<SdpFormat> formats;  // in the order of the m= line (preference)
  std::string connection;          // media-level c= address, "" if none
  Direction direction = Direction::SendRecv;
  int ptime = 0;                   // 0 if not given
  bool rtcp_mux = false;
};

struct SessionDescription {
  std::string origin_user = "confab";
  uint64_t session_id = 0;
  uint64_t session_version = 0;
  std::string origin_address = "127.0.0.1";
  std::string connection;  // session-level c= address
  std::vector<SdpMedia> media;
  // Lines the reader skipped as malformed (each quoted, comma-separated; "" if
  // none): an rtpmap without its clock rate spoils its own format, not the whole
  // description (RFC 4475 section 3.1.1.7 offers "a=rtpmap:31 LPC").
  std::string ignored;

  // nullopt for text that is not a valid SDP (reason in *error if given).
  static std::optional<SessionDescription> parse(std::string_view text, std::string* error = nullptr);
  std::string str() const;
  // The address a media stream is sent to: its own c= or the session's.
  std::string address_of(const SdpMedia& m) const;
  // The first audio stream, if any.
  const SdpMedia* audio() const;
};

// What an offer/answer exchange settled for the audio stream.
struct AudioTerms {
  SdpFormat codec;                      // the payload format both sides use
  std::optional<SdpFormat> telephone_event;  // RFC 4733, if both support it
  std::string remote_address;
  uint16_t remote_port = 0;
  Direction direction = Direction::SendRecv;  // ours: do we send, do we receive
  int ptime = 20;
};

// An offer for one audio stream with `formats` in preference order (a
// telephone-event format may be among them).
SessionDescription make_audio_offer(const std::vector<SdpFormat>& formats, const std::string& address, uint16_t port,
                                    Direction direction = Direction::SendRecv, int ptime = 20);

struct Answer {
  SessionDescription sdp;
  AudioTerms terms;
};
// Answers `offer` (RFC 3264 section 6): the first offered codec we support (the
// offerer's preference), its payload type as offered, the complementary
// direction; every other m= line rejected with port 0. nullopt when no audio
// stream or no common codec (the caller answers 488), reason in *error.
std::optional<Answer> answer_offer(const SessionDescription& offer, const std::vector<SdpFormat>& supported,
                                   const std::string& address, uint16_t port, Direction wanted = Direction::SendRecv,
                                   std::string* error = nullptr);

// Reads the answer to our `offer`: the codec chosen (the first format of the
// answer that we offered). nullopt if the answer rejects audio or is unusable.
std::optional<AudioTerms> accept_answer(const SessionDescription& offer, const SessionDescription& answer,
                                        std::string* error = nullptr);

// False when the Accept header field values of a request (as received) rule SDP
// out: none of their media ranges is application/sdp, application/* or */*. An
// answerer then answers 406 (RFC 3261 21.4.7; RFC 4475 section 3.3.15). No Accept
// at all means application/sdp (RFC 3261 20.1).
bool accepts_sdp(const std::vector<std::string>& accept_values);

// True when both texts are SDP whose first audio streams go to the same
// address and port (the sender has not moved its media).
bool same_audio_address(std::string_view a, std::string_view b);

}  // namespace confab::sip
