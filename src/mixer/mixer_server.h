// `confab mixer`: answers INVITE sip:<mix-id>@<mixer>, makes each call a leg of
// that mix, and takes leg control (move, mute, gain, listen, unlisten) as SIP
// INFO in the leg's dialog. An optional HTTP endpoint lists mixes and exposes metrics.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/log_context.h"
#include "http/http_server.h"
#include "http/metrics_page.h"
#include "media/sdp_terms.h"
#include "media/udp_socket.h"
#include "mixer/mix_engine.h"
#include "sip/sdp.h"
#include "sip/user_agent.h"

namespace confab::mixer {

struct MixerConfig {
  std::vector<sip::ListenSpec> listen;
  std::string rtp_host = "127.0.0.1";
  uint16_t rtp_low = 20000, rtp_high = 29999;
  int threads = 1;
  int rtp_timeout_ms = 60000;
  media::Latch latch = media::Latch::Private;  // symmetric RTP for peers behind NAT (media/audio_stream.h)
  std::string http_host;  // empty: no HTTP endpoint
  uint16_t http_port = 0;
  std::string http_token;
};

// The content type of leg control bodies (INFO), see docs/api.md.
inline constexpr const char* kControlContentType = "application/vnd.confab.mixer+json";

class MixerServer final : public sip::UserAgent::Handler, public sip::CallHandler {
 public:
  MixerServer(sip::EventLoop& loop, MixerConfig config);
  ~MixerServer() override;

  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;
  void on_reinvite(sip::Call& call, sip::IncomingRequest request) override;
  void on_ack(sip::Call& call, const sip::Message& ack) override;
  void on_info(sip::Call& call, sip::IncomingRequest request) override;
  void on_terminated(sip::Call& call, int status, std::string_view reason) override;

  MixEngine& engine() { return engine_; }
  std::string mixes_json();
  void add_metrics(http::MetricsPage& page) const;
  // Ends every call (BYE) before the process exits.
  void shutdown();

 private:
  struct Leg {
    std::shared_ptr<sip::Call> call;
    std::string mix;
    LegId id = 0;                       // 0 until the engine has it
    std::unique_ptr<media::AudioStream> stream;  // held here until terms are known
    uint16_t port = 0;
    media::SdpOrigin origin;            // of the descriptions we send
    std::optional<sip::SessionDescription> our_offer;  // we offered in a 2xx; the answer comes in the ACK
    base::CallLog log;  // every line about the leg: its Call-ID
  };

  std::vector<sip::SdpFormat> supported_formats() const;
  std::string answer_sdp(Leg& leg, sip::SessionDescription sdp);
  // Applies negotiated terms: the first time the leg joins its mix.
  bool apply(Leg& leg, const sip::AudioTerms& terms, std::string* error);
  void handle_offer(Leg& leg, sip::IncomingRequest request, bool initial);
  Leg* leg_of(sip::Call& call);
  // Does a leg control action (docs/api.md); empty, or why it was refused (a reason phrase for 400).
  std::string control(Leg& leg, const std::string& action, const boost::json::object& body);
  void on_leg_event(LegId id, MixEngine::LegEvent event);

  sip::EventLoop& loop_;
  MixerConfig config_;
  media::PortRange ports_;
  MixEngine engine_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<http::Server> http_;
  std::map<std::string, Leg> legs_;  // by Call::id()
};

}  // namespace confab::mixer
