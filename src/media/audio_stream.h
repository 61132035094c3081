// One RTP audio stream as the mixer and the phone use it: received packets go
// through a jitter buffer and a decoder into 20 ms frames at any rate; 20 ms
// frames at any rate are encoded and sent. Single-threaded: one media thread
// owns each stream.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "media/audio.h"
#include "media/codec.h"
#include "media/jitter_buffer.h"
#include "media/resampler.h"
#include "media/rtp.h"
#include "media/udp_socket.h"

namespace confab::media {

// Symmetric RTP (RFC 4961) for peers behind NAT: send to where the peer's RTP
// comes from rather than to the address in its SDP. Learned after each
// offer/answer from the first two packets in sequence from one source. Private: only when the SDP address is a
// private one (a phone behind NAT advertising its LAN address); until then
// nothing is sent there for up to a second. Always: any address.
// Once learned, RTP from any other source is dropped (counted as stray) until the
// next offer/answer, as Asterisk's strictrtp does: nobody else can inject audio
// into the leg.
enum class Latch { Off, Private, Always };

// What offer/answer settled, in media terms.
struct StreamTerms {
  Codec codec = Codec::Pcmu;
  int payload_type = 0;
  std::optional<int> telephone_event_pt;  // RFC 4733 payload type, if negotiated
  Endpoint remote;                        // where RTP goes
  bool send = true;                       // direction: we send
  bool receive = true;                    // direction: we listen
  Latch latch = Latch::Off;
};

struct StreamStats {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t bad_packets = 0;      // not RTP, wrong payload type, undecodable
  uint64_t stray_packets = 0;    // from another source than the one latched onto: dropped
  uint64_t concealed_frames = 0;
  int64_t lost = 0;              // RFC 3550 cumulative loss
  uint32_t jitter_ms = 0;
  uint32_t ssrc_changes = 0;
  bool latched = false;          // RTP goes to the peer's source address, not its SDP one
};

class AudioStream {
 public:
  AudioStream(UdpSocket rtp, UdpSocket rtcp);
  AudioStream(const AudioStream&) = delete;
  AudioStream& operator=(const AudioStream&) = delete;

  // New or changed terms (re-INVITE): a new codec restarts the decoder/encoder.
  void set_terms(const StreamTerms& terms);
  const StreamTerms& terms() const { return terms_; }
  // Where RTP goes: the SDP address, or the one latched onto.
  const Endpoint& target() const { return target_; }
  uint16_t local_port() const { return rtp_.local_port(); }
  int rtp_fd() const { return rtp_.fd(); }
  int rtcp_fd() const { return rtcp_.fd(); }

  // Reads the datagrams waiting on the RTP socket (one recvmmsg for up to 16);
  // returns how many RTP packets were taken.
  size_t receive(uint64_t now_ms);
  // Empties the RTCP socket (reports are not used yet) so it never fills.
  void drain_rtcp();

  enum class Frame { Audio, Concealed, Silence };
  // The next 20 ms of received audio at `rate` into `out` (frame_samples(rate)).
  // conceal=false turns packet loss into silence (the phone's honest recorder).
  Frame pull(int16_t* out, int rate, bool conceal = true);

  // Encodes one 20 ms frame given at `rate` and sends it.
  void push(const int16_t* pcm, int rate);
  // Encodes without sending (to share one encode between streams); returns the payload size.
  size_t encode(const int16_t* pcm, int rate, uint8_t* out, size_t capacity);
  // Sends an encoded 20 ms payload in this stream's RTP sequence.
  void send_payload(const uint8_t* payload, size_t size);

  const StreamStats& stats() const { return stats_; }
  uint64_t last_packet_ms() const { return last_packet_ms_; }  // 0 if none yet
  // Called for each RFC 4733 digit when its end arrives.
  std::function<void(char)> on_digit;

 private:
  void handle_rtp(const uint8_t* data, size_t size, const Endpoint& from, uint64_t now_ms);
  const int16_t* to_rate(const int16_t* in, int in_rate, int out_rate, std::unique_ptr<Resampler>& r, int16_t* buf);

  UdpSocket rtp_, rtcp_;
  StreamTerms terms_;
  bool configured_ = false;
  Endpoint target_;
  bool latch_pending_ = false;  // the source of the next two packets in sequence becomes target_
  Endpoint latch_candidate_;    // the source of the last packet while latch_pending_
  uint16_t latch_sequence_ = 0;
  bool source_locked_ = false;  // learned: RTP from anywhere but target_ is dropped
  int hold_frames_ = 0;         // frames not sent while a private SDP address waits to be latched
  std::unique_ptr<Encoder> encoder_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<JitterBuffer> jitter_;
  std::unique_ptr<Resampler> in_resampler_, out_resampler_;
  RtpReceiveStats rx_stats_;
  StreamStats stats_;
  uint64_t last_packet_ms_ = 0;
  uint32_t ssrc_;
  uint16_t seq_;
  uint32_t ts_;
  bool marker_next_ = true;
  std::vector<uint8_t> payload_;
  std::vector<int16_t> decoded_;   // decoded samples not yet pulled (ptime > 20 ms)
  uint32_t last_event_ts_ = 0;
  bool event_reported_ = false;
};

}  // namespace confab::media
