// One participant of a conference: a back-to-back pair of dialogs, the
// participant's own ("caller" leg, dialled in or out) and the server's leg to
// the mixer. Offers and answers are relayed between the two, so media flows
// participant <-> mixer directly; when one side has no offer (an offerless
// INVITE, a dial-out) the other side's offer travels in the 2xx and the answer
// in the ACK (RFC 3725 flow I).
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/log_context.h"
#include "sip/user_agent.h"

namespace confab::conference {

class Participant;

class ParticipantObserver {
 public:
  virtual ~ParticipantObserver() = default;
  // Both legs are up: the participant is in the conference.
  virtual void on_connected(Participant& p) = 0;
  // Something the roster shows changed (hold, mute).
  virtual void on_changed(Participant& p) = 0;
  // Responses to a dial-out INVITE (REFER progress).
  virtual void on_dial_progress(Participant& p, int status, std::string_view reason) {}
  // One leg has ended and the other is being hung up: the participant is gone
  // from the conference now, even if its device is slow to answer the BYE.
  virtual void on_leaving(Participant& p) = 0;
  // A REFER in the participant's dialog (RFC 4579: add or remove someone).
  virtual void on_refer(Participant& p, sip::IncomingRequest refer) = 0;
  // Both legs are gone. The observer may destroy the participant afterwards (not inside).
  virtual void on_ended(Participant& p, int status, std::string_view reason) = 0;
};

// How a leg control request to the mixer ended: its response's status and reason phrase.
using Done = std::function<void(bool ok, int status, const std::string& reason)>;

class Participant final : public sip::CallHandler {
 public:
  enum class Joining { DialedIn, DialedOut };

  Participant(sip::UserAgent& ua, ParticipantObserver& observer, std::string id, std::string conference,
              std::string mixer_uri);
  ~Participant() override;

  // Dial-in: answers `invite` of `caller` once the mixer leg has answered.
  void dial_in(std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite);
  // Dial-out (RFC 4579 REFER): INVITEs `target` without an offer, through
  // `proxy` if not empty (an outbound proxy URI); its offer goes to the mixer.
  bool dial_out(const std::string& target, const std::string& from, const std::vector<sip::HeaderField>& headers,
                const std::string& proxy = {});
  // Replaces (RFC 3891): `caller` takes over this participant's dialog, the old
  // one gets a BYE; the mixer leg stays, so media goes on without a gap.
  // False (and 491 answered) while an offer/answer exchange is under way.
  bool replace_caller(std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite);
  // Moves the mixer leg to another conference's mix (no re-INVITE of anyone).
  void move_to(const std::string& conference, Done done);
  void set_muted(bool muted, Done done);
  // Makes the participant also hear `conference` at `db` (a new link or a new
  // gain), or no longer (nullopt). The link is the mixer leg's, so it stays
  // through moves (admin or Replaces) and ends with the participant.
  void listen(const std::string& conference, std::optional<double> db, Done done);
  // Ends both legs.
  void hangup();

  const std::string& id() const { return id_; }
  const std::string& conference() const { return conference_; }
  const std::string& uri() const { return uri_; }          // the user (From of a dial-in, target of a dial-out)
  const std::string& display() const { return display_; }
  const std::string& contact() const { return contact_; }  // the endpoint
  Joining joining() const { return joining_; }
  std::chrono::system_clock::time_point joined_at() const { return joined_at_; }
  bool connected() const { return connected_; }
  bool on_hold() const { return on_hold_; }
  bool muted() const { return muted_; }
  const std::map<std::string, double>& listening() const { return listening_; }  // conference -> db
  bool leaving() const { return leaving_; }  // a leg has ended; the other is being hung up
  bool ended() const { return ended_; }
  // True if `caller`'s dialog is this participant's (for Replaces).
  bool has_dialog(const sip::ReplacesHeader& r) const;
  sip::Call* caller() const { return caller_.get(); }
  // Every line about this participant goes through it: the Call-IDs of its
  // dialogs (the participant's, then the mixer leg's, then any that replaced the first).
  const base::CallLog& log() const { return log_; }

  // sip::CallHandler, for both legs.
  void on_invite_response(sip::Call& call, int status, const sip::Message& response) override;
  void on_reinvite(sip::Call& call, sip::IncomingRequest request) override;
  void on_ack(sip::Call& call, const sip::Message& ack) override;
  void on_info(sip::Call& call, sip::IncomingRequest request) override;
  void on_refer(sip::Call& call, sip::IncomingRequest request) override;
  void on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) override;
  void on_terminated(sip::Call& call, int status, std::string_view reason) override;

 private:
  // What the leg in progress is waiting for.
  enum class Relay {
    None,
    CallerOffer,    // the caller's offer went to the mixer; its answer goes back in the response
    CallerNoOffer,  // the caller sent no offer: the mixer's offer goes in our 2xx, the answer comes in the ACK
    DialOut,        // the callee's offer (in its 2xx) went to the mixer; the answer goes in the ACK to the callee
    MixerOffer,     // the mixer's offer went to the caller; its answer goes back to the mixer
  };

  void start_mixer_leg(std::string_view offer);
  void answer_caller(int status, std::string_view reason, const sip::Message* response, std::string_view sdp);
  void relay_offer_to_mixer(sip::IncomingRequest request);
  void note_caller_sdp(std::string_view sdp);
  void set_connected();
  void end_if_done();
  void send_control(const std::string& json, Done done);

  sip::UserAgent& ua_;
  ParticipantObserver& observer_;
  std::string id_, conference_, mixer_uri_;
  std::string uri_, display_, contact_;
  Joining joining_ = Joining::DialedIn;
  std::chrono::system_clock::time_point joined_at_;
  std::shared_ptr<sip::Call> caller_, mixer_;
  std::vector<std::shared_ptr<sip::Call>> replaced_;  // old caller dialogs being hung up
  std::optional<sip::IncomingRequest> waiting_;       // a request from one leg awaiting the other's answer
  sip::Method waiting_method_ = sip::Method::Unknown;
  Relay relay_ = Relay::None;
  std::string caller_sdp_, mixer_sdp_;  // the last session description each side gave
  std::deque<Done> controls_;            // INFOs to the mixer awaiting answers, in order
  std::map<std::string, double> listening_;  // other conferences heard, as the mixer accepted them
  base::CallLog log_;
  int end_status_ = 0;
  std::string end_reason_;
  bool connected_ = false, on_hold_ = false, muted_ = false, leaving_ = false, ended_ = false;
};

}  // namespace confab::conference
