// One SIP dialog of a loop-mode call (the device's, the target's), as the call
// drives it. The service's legs are sip::Calls (sip_leg.h); the call's unit
// tests drive it with fakes, so its state machine is tested without a network.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sip/message.h"

namespace confab::sip {
class Call;
struct CallOptions;
}  // namespace confab::sip

namespace confab::service {

class CallLeg;

// A request from a leg's peer that the call answers, possibly later: the
// caller's INVITE, a re-INVITE or UPDATE. Unanswered when destroyed: 500.
class PendingRequest {
 public:
  virtual ~PendingRequest() = default;
  virtual void respond(int status, std::string_view reason, std::string_view sdp = {}) = 0;
};

// What a leg reports to its call (all on the SIP thread).
class CallLegEvents {
 public:
  virtual ~CallLegEvents() = default;
  // A provisional or final response to our INVITE or re-INVITE; `sdp` is its body.
  virtual void on_answer(CallLeg& leg, int status, const std::string& reason, const std::string& sdp) = 0;
  // The peer's re-INVITE or UPDATE; `sdp` its offer, "" for none.
  virtual void on_reoffer(CallLeg& leg, std::unique_ptr<PendingRequest> request, const std::string& sdp) = 0;
  // The ACK for our 2xx; `sdp` the answer when our 2xx carried the offer.
  virtual void on_ack(CallLeg& leg, const std::string& sdp) = 0;
  // The final response to ping().
  virtual void on_ping_response(CallLeg& leg, int status, const std::string& reason) = 0;
  // The final response to refer(); `cseq` is the REFER's, which its NOTIFYs name (Event: refer;id=CSEQ).
  virtual void on_refer_response(CallLeg& leg, int status, const std::string& reason, uint32_t cseq) = 0;
  // A NOTIFY reporting a REFER's progress (RFC 3515): the status line of its
  // message/sipfrag body; `refer_cseq` 0 when the NOTIFY names no id.
  virtual void on_refer_notify(CallLeg& leg, uint32_t refer_cseq, int status, const std::string& reason) = 0;
  // The dialog is over (BYE either way, CANCEL, rejection, timeout). Once.
  virtual void on_ended(CallLeg& leg, int status, const std::string& reason) = 0;
};

class CallLeg {
 public:
  virtual ~CallLeg() = default;
  // Where the leg's events go; nullptr stops them (the call is going away).
  virtual void attach(CallLegEvents* events) = 0;
  // A re-INVITE with `sdp` as the offer ("" for an offerless one).
  virtual void reinvite(std::string_view sdp) = 0;
  // Acknowledges our INVITE's 2xx, with `sdp` as the answer if it carried an offer.
  virtual void ack(std::string_view sdp = {}) = 0;
  // An in-dialog REFER asking the peer to invite `uri` (RFC 4579).
  virtual void refer(const std::string& uri) = 0;
  // An in-dialog OPTIONS: is the peer still there?
  virtual void ping() = 0;
  // CANCEL before an answer, BYE after.
  virtual void hangup() = 0;
  virtual bool established() const = 0;
  virtual bool terminated() const = 0;
  // The Replaces header naming this dialog (RFC 3891), from our side.
  virtual sip::ReplacesHeader replaces() const = 0;
  // The SIP dialog itself (extensions' requests); null for fakes.
  virtual sip::Call* dialog() const { return nullptr; }
};

// Places a call's outgoing legs.
class LegDialer {
 public:
  virtual ~LegDialer() = default;
  // INVITEs `uri` with `sdp` as the offer ("" for none). `name` is "device" or "target".
  virtual std::shared_ptr<CallLeg> invite(const std::string& uri, std::string_view sdp, const sip::CallOptions& options,
                                          std::string_view name, CallLegEvents& events) = 0;
};

}  // namespace confab::service
