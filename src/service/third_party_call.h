// A loop-mode call (RFC 3725 flow I): the service INVITEs the device without
// an offer, sends the device's offer (from its 2xx) to the target, and returns
// the target's answer in the ACK. Media flows device <-> target; the service
// stays in the signalling, relays later offers both ways (hold, resume), and
// can move the device to another target without it hanging up:
//
// - Same conference server: INVITE the new conference with Replaces naming
//   our dialog with the old one (RFC 3891); the server moves the leg inside its
//   mixer, the media address stays, the device sees nothing at all.
// - Otherwise (or if Replaces is refused): make before break. Offerless
//   re-INVITE to the device, its offer to the new target, the new target's
//   answer in the ACK to the device, and only then BYE to the old target.
//
// An incoming call (someone INVITEs the user) is the same call started the
// other way round (answer()): the caller's dialog is the target leg, the
// device is INVITEd with the caller's offer, and its answer goes back in our
// 2xx; a caller that made no offer gets the device's offer in the 2xx and its
// answer in the ACK is passed on to the device.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service/service_call.h"
#include "sip/user_agent.h"

namespace confab::service {

class ThirdPartyCall;

// What an extension (the service's Tunnel) sees of a loop-mode call's dialogs
// beyond what the call itself uses: requests the peers send that the call has
// no use for, and the responses to requests sent with sip::Call::request().
class LegListener {
 public:
  virtual ~LegListener() = default;
  // An INFO, MESSAGE, ... from a peer in one of the call's dialogs (`leg`:
  // "device" or "target"). If the listener leaves it unanswered, the call
  // answers as it would without one (INFO 200, anything else 405).
  virtual void on_leg_request(ThirdPartyCall& call, std::string_view leg, sip::IncomingRequest& request) = 0;
  virtual void on_leg_response(ThirdPartyCall& call, sip::Call& leg, int status, std::string_view phrase,
                               const sip::Message& response) = 0;
  // The dialog is over: no more responses will come from it.
  virtual void on_leg_ended(ThirdPartyCall& call, sip::Call& leg) = 0;
};

class ThirdPartyCall final : public ServiceCall, public sip::CallHandler {
 public:
  // `keepalive`: how often both legs are probed with an in-dialog OPTIONS (0: never); a leg
  // whose peer is gone (408, 481, 503) ends the call, e.g. a conference server that died.
  ThirdPartyCall(sip::EventLoop& loop, sip::UserAgent& ua, CallObserver& observer, std::string id,
                 std::string device_id, std::string device_uri, std::string target_uri, sip::CallOptions options,
                 std::chrono::seconds keepalive = std::chrono::seconds(0));
  ~ThirdPartyCall() override;  // hangs up what is left, silently

  // Sets the call up; `done` once it is active or has failed.
  void start(Completion done) override;
  // Sets up an incoming call from `caller` (its INVITE: `invite`) on the device instead.
  void answer(std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite, Completion done);
  bool incoming() const { return incoming_; }
  // Moves the device to `target` (see above). `try_replaces`: attempt RFC 3891 first.
  // 491 while another exchange is under way. `how` says "replaces" or "reinvite".
  void move_to(const std::string& target, bool try_replaces, std::function<void(int, const std::string&, const std::string& how)> done);
  void hangup() override;
  // RFC 4579: REFERs the target (a conference) to `uri` in our dialog with it,
  // asking it to invite that user; `done` gets the REFER's final status (202: accepted).
  void refer_target(const std::string& uri, Completion done);

  CallMode mode() const override { return CallMode::Loop; }
  bool active() const override {
    return phase_ != Phase::DeviceSetup && phase_ != Phase::TargetSetup && phase_ != Phase::IncomingSetup &&
           phase_ != Phase::IncomingAck && phase_ != Phase::Ended;
  }
  bool ended() const override { return phase_ == Phase::Ended; }
  // The dialog with the target (for in-dialog requests such as an RFC 4579 REFER), null if none.
  sip::Call* target_call() const { return target_.get(); }
  sip::Call* device_call() const { return device_.get(); }
  void set_leg_listener(LegListener* listener) { leg_listener_ = listener; }
  // "device" for the dialog with the device, "target" for any dialog with a target.
  std::string_view leg_name(const sip::Call& leg) const { return &leg == device_.get() ? "device" : "target"; }

  // sip::CallHandler, for every leg.
  void on_invite_response(sip::Call& call, int status, const sip::Message& response) override;
  void on_reinvite(sip::Call& call, sip::IncomingRequest request) override;
  void on_ack(sip::Call& call, const sip::Message& ack) override;
  void on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) override;
  void on_terminated(sip::Call& call, int status, std::string_view reason) override;
  // Forwarded to the LegListener.
  void on_info(sip::Call& call, sip::IncomingRequest request) override;
  void on_request(sip::Call& call, sip::IncomingRequest request) override;
  void on_method_response(sip::Call& call, int status, std::string_view phrase, const sip::Message& response) override;

 private:
  enum class Phase {
    DeviceSetup,       // offerless INVITE to the device, waiting for its offer
    TargetSetup,       // the device's offer went to the target, waiting for its answer
    IncomingSetup,     // incoming: the device is INVITEd (with the caller's offer, or none)
    IncomingAck,       // incoming: our 2xx carried the device's offer, waiting for the caller's ACK
    Active,
    RelayFromDevice,   // the device's re-offer went to the target
    RelayFromTarget,   // the target's re-offer went to the device
    MoveReplaces,      // INVITE with Replaces to the new target
    MoveDeviceOffer,   // offerless re-INVITE to the device, waiting for its offer
    MoveNewTarget,     // the device's offer went to the new target (or, refreshing, to the current one)
    Ended,
  };

  sip::CallOptions leg_options(bool auto_ack) const;
  // Answers the re-INVITE we relayed with the other side's final response.
  void complete_relay(int status, const std::string& reason, const std::string& answer);
  void start_reinvite_move();
  void finish_move(int status, const std::string& reason, const std::string& how);
  void become_active();
  std::string_view other_side() const { return incoming_ ? "the caller" : "the target"; }
  void end(int status, std::string_view reason);
  void check_gone();

  sip::UserAgent& ua_;
  sip::Timer keepalive_timer_;
  std::chrono::seconds keepalive_;
  std::string new_target_uri_;
  sip::CallOptions options_;
  std::shared_ptr<sip::Call> device_, target_, new_target_;
  std::vector<std::shared_ptr<sip::Call>> old_targets_;  // hung up or replaced, until they terminate
  std::string device_sdp_;  // the device's latest session description (its offer)
  std::string target_sdp_;  // the target's latest one (its answer)
  Phase phase_ = Phase::DeviceSetup;
  bool refreshing_ = false;  // MoveDeviceOffer/MoveNewTarget re-offer to the current target (after Replaces)
  std::optional<sip::IncomingRequest> relayed_;  // the re-INVITE awaiting the other side's answer
  std::optional<sip::IncomingRequest> caller_invite_;  // incoming: the caller's INVITE, until answered
  bool incoming_ = false, caller_answered_ = false;
  Completion started_;
  std::deque<Completion> refers_;  // REFERs to the target awaiting their responses, in order
  std::function<void(int, const std::string&, const std::string&)> moved_;
  bool rang_ = false, gone_ = false;
  LegListener* leg_listener_ = nullptr;
};

}  // namespace confab::service
