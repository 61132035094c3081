// `confab phone`: a headless SIP phone with real RTP. It registers, dials,
// answers (offerless INVITEs too, as third-party call control needs), follows
// REFER, plays a tone or WAV file and records what it hears. Commands arrive
// as lines (stdin); events leave as lines "event=<name> key=value ...".
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conference_events/roster.h"
#include "media/sdp_terms.h"
#include "media/udp_socket.h"
#include "phone/phone_media.h"
#include "sip/sdp.h"
#include "sip/user_agent.h"

namespace confab::phone {

struct PhoneConfig {
  std::vector<sip::ListenSpec> listen;
  std::string identity;      // our From; default sip:phone@<listen>
  std::string register_aor;  // REGISTER this address-of-record ...
  std::string proxy;         // ... at this proxy (also the outbound proxy for calls)
  unsigned register_expires = 600;
  std::string user, password;  // digest credentials
  bool stop_if_not_registered = false;  // stop the loop when the first REGISTER fails for good
  bool auto_answer = false;
  std::string dial;          // call this right away
  std::string subscribe;     // subscribe to this conference's event package right away
  std::string codec;         // pcmu, pcma, g722, opus; empty: all (PCMU first)
  MediaSource source;
  std::string record_file;
  std::string notify_dir;    // keep each conference NOTIFY body here (notify-<n>.xml)
  std::string rtp_host = "127.0.0.1";  // RTP is bound here (numeric; `confab phone`: the --listen host)
  std::string sdp_address;   // the address our SDP names instead of rtp_host (behind NAT: the LAN one)
  uint16_t rtp_low = 30000, rtp_high = 39999;
};

class Phone final : public sip::UserAgent::Handler,
                    public sip::CallHandler,
                    public sip::RegistrationHandler,
                    public sip::SubscriberHandler {
 public:
  using Emit = std::function<void(const std::string& line)>;
  Phone(sip::EventLoop& loop, PhoneConfig config, Emit emit);
  ~Phone() override;

  // "dial URI", "answer", "hangup", "hold", "unhold", "transfer URI", "mute", "unmute",
  // "info CONTENT-TYPE BODY" (an INFO in the current call), "move URI" (INVITE URI
  // with Replaces naming the current call, keeping its media: a conference move),
  // "subscribe URI" / "unsubscribe" (the conference event package, RFC 4575).
  // Returns false for an unknown or malformed command (an event says why).
  bool command(const std::string& line);
  void shutdown();
  // The first registration failed (with stop_if_not_registered the loop was stopped).
  bool registration_failed() const { return registration_failed_; }

  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;
  void on_invite_response(sip::Call& call, int status, const sip::Message& response) override;
  void on_reinvite(sip::Call& call, sip::IncomingRequest request) override;
  void on_ack(sip::Call& call, const sip::Message& ack) override;
  void on_refer(sip::Call& call, sip::IncomingRequest request) override;
  void on_notify(sip::Call& call, const sip::Message& notify) override;
  void on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) override;
  void on_terminated(sip::Call& call, int status, std::string_view reason) override;
  void on_registration(int status, std::string_view reason) override;
  void on_subscribe_response(sip::Subscriber& subscriber, int status, std::string_view reason) override;
  void on_notify(sip::Subscriber& subscriber, const sip::Message& notify) override;
  void on_ended(sip::Subscriber& subscriber, int status, std::string_view why) override;

 private:
  const std::string& sdp_address() const { return config_.sdp_address.empty() ? config_.rtp_host : config_.sdp_address; }
  struct Referral {          // a REFER we accepted, to be told how it went
    std::string call;        // the dialog it came in
    uint32_t refer_cseq = 0;  // its CSeq: the id of its implicit subscription
  };
  struct CallState {
    std::shared_ptr<sip::Call> call;
    std::shared_ptr<media::AudioStream> stream;
    uint16_t port = 0;
    media::SdpOrigin origin;                            // of the descriptions we send
    std::optional<sip::SessionDescription> our_offer;  // offered, answer pending
    std::optional<sip::IncomingRequest> ringing;        // an INVITE not answered yet
    bool held = false;
    std::optional<Referral> referral;                   // the REFER that brought us here
  };

  std::vector<sip::SdpFormat> formats() const;
  CallState* state_of(sip::Call& call);
  CallState* current();
  bool new_stream(CallState& cs);
  std::string offer_text(CallState& cs, sip::Direction direction);
  std::string answer_text(CallState& cs, sip::SessionDescription sdp);
  bool apply(CallState& cs, const sip::AudioTerms& terms);
  void answer_request(CallState& cs, sip::IncomingRequest request);
  void dial(const std::string& target, const std::vector<sip::HeaderField>& headers = {},
            std::optional<Referral> referral = {}, CallState* media_of = nullptr);
  void move(const std::string& target);
  void make_current(CallState& cs);
  void event(const std::string& name, const std::vector<std::pair<std::string, std::string>>& fields = {});

  sip::EventLoop& loop_;
  PhoneConfig config_;
  Emit emit_;
  media::PortRange ports_;
  PhoneMedia media_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<sip::Registration> registration_;
  std::map<std::string, CallState> calls_;  // by Call::id()
  std::string current_;
  std::unique_ptr<sip::Subscriber> subscription_;
  conference_events::Roster roster_;
  unsigned notifies_ = 0;
  bool registered_once_ = false;
  bool registration_failed_ = false;
};

}  // namespace confab::phone
