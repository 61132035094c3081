#include "service/calls/transfer_call.h"

#include <spdlog/spdlog.h>

#include "sip/sipfrag.h"
#include "sip/sdp.h"

namespace confab::service {

TransferCall::TransferCall(sip::EventLoop& loop, sip::UserAgent& ua, CallObserver& observer, std::string id,
                           std::string device_id, std::string device_uri, std::string target_uri,
                           sip::CallOptions options)
    : ServiceCall(observer, std::move(id), std::move(device_id), std::move(device_uri), std::move(target_uri)),
      ua_(ua),
      options_(std::move(options)),
      timeout_(loop) {}

TransferCall::~TransferCall() {
  if (device_) {
    device_->set_handler(nullptr);
    if (!device_->terminated()) device_->hangup();
  }
}

void TransferCall::start(Completion done) {
  done_ = std::move(done);
  auto o = options_;
  o.auto_ack = false;
  device_ = ua_.invite(device_uri_, "", *this, o);
  log().info("call {}: {} -> {} (transfer mode), INVITE without offer to the device", id_, device_uri_, target_uri_);
  timeout_.once(std::chrono::milliseconds(kTransferTimeoutMs), [this] { finish(408, "the transfer timed out"); });
}

void TransferCall::add_call_ids(base::CallLog& log) const {
  if (device_) log.add_call_id(device_->call_id());
}

void TransferCall::on_invite_response(sip::Call& call, int status, const sip::Message& response) {
  if (status < 200 || referred_) {
    if ((status == 180 || status == 183) && !referred_) observer_.on_call_state(*this, CallState::Ringing, status, "");
    return;
  }
  if (status >= 300) return finish(status, "device: " + std::string(response.reason()));
  // Answer the device's offer with an inactive stream to a discard port: it
  // must not send us media, and it is about to talk to the target instead.
  std::string error;
  auto offer = sip::SessionDescription::parse(response.body(), &error);
  std::optional<sip::Answer> answer;
  if (offer && offer->audio()) answer = sip::answer_offer(*offer, offer->audio()->formats, ua_.host(), 9, sip::Direction::Inactive, &error);
  if (!answer) {
    device_->ack();
    return finish(488, "the device's offer is unusable: " + error);
  }
  device_->ack(answer->sdp.str());
  referred_ = true;
  log().info("call {}: device answered, REFER to {}", id_, target_uri_);
  device_->refer(target_uri_, {{"Referred-By", "<" + (options_.from.empty() ? ua_.contact() : options_.from) + ">"}});
}

void TransferCall::on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) {
  if (method == sip::Method::Refer && status >= 300)
    finish(status, "the device refused the REFER: " + std::string(response.reason()));
}

void TransferCall::on_notify(sip::Call& call, const sip::Message& notify) {
  auto frag = sip::parse_sipfrag(notify.body());
  if (!frag || frag->status < 200) return;
  if (frag->status < 300) return finish(200, "transferred");
  finish(frag->status, "the target refused the device: SIP/2.0 " + std::to_string(frag->status) + " " + frag->reason);
}

void TransferCall::on_terminated(sip::Call& call, int status, std::string_view reason) {
  if (!ended_) finish(status >= 300 ? status : 487, "the device ended the call before the transfer completed");
  if (gone_) return;
  gone_ = true;
  observer_.on_call_gone(*this);
}

void TransferCall::finish(int status, const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  timeout_.cancel();
  if (status < 300) {
    log().info("call {}: transferred {} to {}", id_, device_uri_, target_uri_);
    observer_.on_call_state(*this, CallState::Transferred, 200, target_uri_);
  } else {
    log().warn("call {}: transfer of {} to {} failed: {} {}", id_, device_uri_, target_uri_, status, reason);
  }
  observer_.on_call_state(*this, CallState::Ended, status, reason);
  if (done_) std::exchange(done_, nullptr)(status, reason);
  if (device_ && !device_->terminated()) device_->hangup();  // we leave (RFC 5589: the transferor may BYE)
  else if (!gone_) {
    gone_ = true;
    observer_.on_call_gone(*this);
  }
}

void TransferCall::hangup() { finish(487, "hung up"); }

}  // namespace confab::service
