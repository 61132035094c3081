#include "service/calls/sip_leg.h"

#include <strings.h>

#include <cstdlib>

#include "sip/sipfrag.h"

namespace confab::service {

namespace {
constexpr const char* kSdp = "application/sdp";
}

void SipLeg::take(std::shared_ptr<sip::Call> call) {
  call_ = std::move(call);
  call_->set_handler(this);
}

SipLeg::~SipLeg() {
  if (call_) call_->set_handler(nullptr);
}

sip::ReplacesHeader SipLeg::replaces() const {
  return {call_->call_id(), call_->remote_tag(), call_->local_tag(), false};
}

// Each event keeps this leg alive while the call handles it: the call may let go of it meanwhile.

void SipLeg::on_invite_response(sip::Call&, int status, const sip::Message& response) {
  auto keep = shared_from_this();
  if (events_) events_->on_answer(*this, status, std::string(response.reason()), std::string(response.body()));
}

void SipLeg::on_reinvite(sip::Call&, sip::IncomingRequest request) {
  std::string offer(request.message().body());
  if (!events_) return request.respond(481, "Call/Transaction Does Not Exist");
  auto keep = shared_from_this();
  events_->on_reoffer(*this, std::make_unique<SipPendingRequest>(std::move(request)), offer);
}

void SipLeg::on_ack(sip::Call&, const sip::Message& ack) {
  auto keep = shared_from_this();
  if (events_) events_->on_ack(*this, std::string(ack.body()));
}

void SipLeg::on_request_response(sip::Call&, sip::Method method, int status, const sip::Message& response) {
  if (!events_) return;
  auto keep = shared_from_this();
  std::string reason(response ? response.reason() : "");
  if (method == sip::Method::Options) events_->on_ping_response(*this, status, reason);
  if (method == sip::Method::Refer && status >= 200)
    events_->on_refer_response(*this, status, reason, response ? response.cseq() : 0);
}

void SipLeg::on_notify(sip::Call&, const sip::Message& notify) {
  auto event = notify.header("Event");
  if (!events_ || !event || strncasecmp(event->c_str(), "refer", 5) != 0) return;
  auto frag = sip::parse_sipfrag(notify.body());
  if (!frag) return;
  uint32_t id = 0;
  if (auto at = event->find(";id="); at != std::string::npos) id = static_cast<uint32_t>(std::strtoul(event->c_str() + at + 4, nullptr, 10));
  auto keep = shared_from_this();
  events_->on_refer_notify(*this, id, frag->status, frag->reason);
}

void SipLeg::on_info(sip::Call&, sip::IncomingRequest request) {
  if (listener_) listener_->on_leg_request(call_id_, name_, request);
  if (!request.answered()) request.respond(200, "OK");
}

void SipLeg::on_request(sip::Call&, sip::IncomingRequest request) {
  if (listener_) listener_->on_leg_request(call_id_, name_, request);
  if (!request.answered()) request.respond(405, "Method Not Allowed");
}

void SipLeg::on_method_response(sip::Call& call, int status, std::string_view phrase, const sip::Message& response) {
  if (listener_) listener_->on_leg_response(call, status, phrase, response);
}

void SipLeg::on_terminated(sip::Call& call, int status, std::string_view reason) {
  auto keep = shared_from_this();
  if (listener_) listener_->on_leg_ended(call);
  if (events_) events_->on_ended(*this, status, std::string(reason));
}

void SipPendingRequest::respond(int status, std::string_view reason, std::string_view sdp) {
  if (sdp.empty())
    request_.respond(status, reason);
  else
    request_.respond(status, reason, {}, kSdp, sdp);
}

std::shared_ptr<CallLeg> SipLegDialer::invite(const std::string& uri, std::string_view sdp,
                                              const sip::CallOptions& options, std::string_view name,
                                              CallLegEvents& events) {
  auto leg = std::make_shared<SipLeg>(call_id_, std::string(name), listener_);
  auto call = ua_.invite(uri, sdp, *leg, options);
  if (!call) return nullptr;
  leg->take(std::move(call));
  leg->attach(&events);
  return leg;
}

}  // namespace confab::service
