// The service's call legs: sip::Calls behind the CallLeg interface. Requests
// and responses in a leg's dialog that the call has no use for (INFO,
// MESSAGE, responses to an extension's own requests) go to a LegListener: the
// service's Tunnel.
#pragma once

#include <memory>
#include <string>

#include "service/calls/call_leg.h"
#include "sip/user_agent.h"

namespace confab::service {

// What an extension sees of a loop-mode call's dialogs beyond what the call uses.
class LegListener {
 public:
  virtual ~LegListener() = default;
  // An INFO, MESSAGE, ... from the peer of `leg` ("device" or "target") of
  // call `call_id`. Left unanswered, the leg answers as it would without a
  // listener (INFO 200, anything else 405).
  virtual void on_leg_request(const std::string& call_id, std::string_view leg, sip::IncomingRequest& request) = 0;
  // A response to a request sent with sip::Call::request() in `dialog`.
  virtual void on_leg_response(sip::Call& dialog, int status, std::string_view phrase, const sip::Message& response) = 0;
  // The dialog is over: no more responses will come from it.
  virtual void on_leg_ended(sip::Call& dialog) = 0;
};

class SipLeg final : public CallLeg, public sip::CallHandler, public std::enable_shared_from_this<SipLeg> {
 public:
  // Leg `name` ("device", "target") of call `call_id`; take() gives it its dialog.
  SipLeg(std::string call_id, std::string name, LegListener* listener)
      : call_id_(std::move(call_id)), name_(std::move(name)), listener_(listener) {}
  // Takes over `call` (an INVITE dialog either way): its events come here.
  void take(std::shared_ptr<sip::Call> call);
  ~SipLeg() override;

  void attach(CallLegEvents* events) override { events_ = events; }
  void reinvite(std::string_view sdp) override { call_->reinvite(sdp); }
  void ack(std::string_view sdp) override { call_->ack(sdp); }
  void refer(const std::string& uri) override { call_->refer(uri); }
  void ping() override { call_->ping(); }
  void hangup() override { call_->hangup(); }
  bool established() const override { return call_->established(); }
  bool terminated() const override { return call_->terminated(); }
  sip::ReplacesHeader replaces() const override;
  sip::Call* dialog() const override { return call_.get(); }

  // sip::CallHandler
  void on_invite_response(sip::Call& call, int status, const sip::Message& response) override;
  void on_reinvite(sip::Call& call, sip::IncomingRequest request) override;
  void on_ack(sip::Call& call, const sip::Message& ack) override;
  void on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) override;
  void on_notify(sip::Call& call, const sip::Message& notify) override;
  void on_info(sip::Call& call, sip::IncomingRequest request) override;
  void on_request(sip::Call& call, sip::IncomingRequest request) override;
  void on_method_response(sip::Call& call, int status, std::string_view phrase, const sip::Message& response) override;
  void on_terminated(sip::Call& call, int status, std::string_view reason) override;

 private:
  std::shared_ptr<sip::Call> call_;
  std::string call_id_, name_;
  LegListener* listener_;
  CallLegEvents* events_ = nullptr;
};

// An incoming request answered through the PendingRequest interface.
class SipPendingRequest final : public PendingRequest {
 public:
  explicit SipPendingRequest(sip::IncomingRequest request) : request_(std::move(request)) {}
  void respond(int status, std::string_view reason, std::string_view sdp) override;

 private:
  sip::IncomingRequest request_;
};

// Dials legs through the service's user agent.
class SipLegDialer final : public LegDialer {
 public:
  SipLegDialer(sip::UserAgent& ua, std::string call_id, LegListener* listener)
      : ua_(ua), call_id_(std::move(call_id)), listener_(listener) {}
  std::shared_ptr<CallLeg> invite(const std::string& uri, std::string_view sdp, const sip::CallOptions& options,
                                  std::string_view name, CallLegEvents& events) override;

 private:
  sip::UserAgent& ua_;
  std::string call_id_;
  LegListener* listener_;
};

}  // namespace confab::service
