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
//
// The legs are CallLegs (call_leg.h): sip::Calls in the service, fakes in
// third_party_call_test.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service/calls/call_leg.h"
#include "service/calls/service_call.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::service {

class ThirdPartyCall final : public ServiceCall, public CallLegEvents {
 public:
  enum class Direction { Outgoing, Incoming };
  // `keepalive`: how often both legs are probed with an in-dialog OPTIONS (0: never); a leg
  // whose peer is gone (408, 481, 503) ends the call, e.g. a conference server that died.
  // An Incoming call is set up with answer(), an Outgoing one with start().
  ThirdPartyCall(sip::EventLoop& loop, std::unique_ptr<LegDialer> dialer, CallObserver& observer, std::string id,
                 std::string device_id, std::string device_uri, std::string target_uri, sip::CallOptions options,
                 std::chrono::seconds keepalive = std::chrono::seconds(0), Direction direction = Direction::Outgoing);
  ~ThirdPartyCall() override;  // hangs up what is left, silently

  // Sets the call up; `done` once it is active or has failed.
  void start(Completion done) override;
  // Sets up an incoming call instead: `caller` is the caller's dialog, `invite`
  // its INVITE, `offer` the INVITE's session description ("" if none).
  void answer(std::shared_ptr<CallLeg> caller, std::unique_ptr<PendingRequest> invite, const std::string& offer,
              Completion done);
  bool incoming() const override { return direction_ == Direction::Incoming; }
  // Moves the device to `target` (see above). 491 while another exchange is under way.
  void move_to(const std::string& target, bool try_replaces, MoveCompletion done) override;
  void hangup() override;
  // RFC 4579: REFERs the target (a conference) to `uri` in our dialog with it;
  // `done` once the conference reports how its INVITE to `uri` ended (the
  // REFER's final NOTIFY), or at once if it refuses the REFER.
  void refer_target(const std::string& uri, Completion done) override;

  CallMode mode() const override { return CallMode::Loop; }
  bool active() const override;
  bool ended() const override { return phase_ == Phase::Ended; }
  sip::Call* dialog(std::string_view leg) const override;

 protected:
  void add_call_ids(base::CallLog& log) const override;  // also a new target's while moving

 public:

  // CallLegEvents, for every leg.
  void on_answer(CallLeg& leg, int status, const std::string& reason, const std::string& sdp) override;
  void on_reoffer(CallLeg& leg, std::unique_ptr<PendingRequest> request, const std::string& sdp) override;
  void on_ack(CallLeg& leg, const std::string& sdp) override;
  void on_ping_response(CallLeg& leg, int status, const std::string& reason) override;
  void on_refer_response(CallLeg& leg, int status, const std::string& reason, uint32_t cseq) override;
  void on_refer_notify(CallLeg& leg, uint32_t refer_cseq, int status, const std::string& reason) override;
  void on_ended(CallLeg& leg, int status, const std::string& reason) override;

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
  struct Response {
    int status;
    const std::string& reason;
    const std::string& sdp;
    bool provisional() const { return status < 200; }
    bool failed() const { return status >= 300; }
  };

  // One per phase: a final (or provisional) response on the leg that phase waits for.
  void device_setup_answered(const Response& r);     // DeviceSetup: the device's offer
  void incoming_device_answered(const Response& r);  // IncomingSetup: the device's answer (or offer) for the caller
  void target_setup_answered(const Response& r);     // TargetSetup: the target's answer
  void relay_answered(CallLeg& from, const Response& r);  // RelayFromDevice/Target: the other side's answer
  void move_device_offered(const Response& r);       // MoveDeviceOffer: the device's new offer
  void replaces_answered(const Response& r);         // MoveReplaces: the new target took our dialog
  void new_target_answered(const Response& r);       // MoveNewTarget: the new target's answer
  void refresh_answered(const Response& r);          // MoveNewTarget (refreshing): the current target's answer

  sip::CallOptions leg_options(bool auto_ack) const;
  std::shared_ptr<CallLeg> dial(const std::string& uri, std::string_view sdp, bool auto_ack, std::string_view name,
                                std::vector<sip::HeaderField> headers = {});
  void start_reinvite_move();
  void finish_move(int status, const std::string& reason, const std::string& how);
  void become_active();
  bool moving() const;
  std::string_view other_side() const { return incoming() ? "the caller" : "the target"; }
  void end(int status, std::string_view reason);
  void check_gone();

  std::unique_ptr<LegDialer> dialer_;
  sip::Timer keepalive_timer_;
  std::chrono::seconds keepalive_;
  std::string new_target_uri_;
  sip::CallOptions options_;
  std::shared_ptr<CallLeg> device_, target_, new_target_;
  std::vector<std::shared_ptr<CallLeg>> old_targets_;  // hung up or replaced, until they end
  std::string device_sdp_;  // the device's latest session description (its offer)
  std::string target_sdp_;  // the target's latest one (its answer)
  Phase phase_ = Phase::DeviceSetup;
  bool refreshing_ = false;  // MoveDeviceOffer/MoveNewTarget re-offer to the current target (after Replaces)
  std::unique_ptr<PendingRequest> relayed_;        // the re-INVITE awaiting the other side's answer
  std::unique_ptr<PendingRequest> caller_invite_;  // incoming: the caller's INVITE, until answered
  Direction direction_;
  bool caller_answered_ = false;
  Completion started_;
  std::deque<Completion> refers_;  // REFERs to the target awaiting their responses, in order
  std::map<uint32_t, Completion> invitations_;  // accepted REFERs awaiting their final NOTIFY, by REFER CSeq
  std::map<uint32_t, std::pair<int, std::string>> early_outcomes_;  // final NOTIFYs that came before the 202
  MoveCompletion moved_;
  bool rang_ = false, gone_ = false;
};

}  // namespace confab::service
