#include "service/calls/third_party_call.h"

#include <spdlog/spdlog.h>

#include "sip/sdp.h"

namespace confab::service {

ThirdPartyCall::ThirdPartyCall(sip::EventLoop& loop, std::unique_ptr<LegDialer> dialer, CallObserver& observer,
                               std::string id, std::string device_id, std::string device_uri, std::string target_uri,
                               sip::CallOptions options, std::chrono::seconds keepalive, Direction direction)
    : ServiceCall(observer, std::move(id), std::move(device_id), std::move(device_uri), std::move(target_uri)),
      dialer_(std::move(dialer)),
      keepalive_timer_(loop),
      keepalive_(keepalive),
      options_(std::move(options)),
      direction_(direction) {}

ThirdPartyCall::~ThirdPartyCall() {
  for (auto* leg : {&device_, &target_, &new_target_})
    if (*leg) {
      (*leg)->attach(nullptr);
      if (!(*leg)->terminated()) (*leg)->hangup();
    }
  for (auto& old : old_targets_) old->attach(nullptr);
}

sip::CallOptions ThirdPartyCall::leg_options(bool auto_ack) const {
  sip::CallOptions o = options_;
  o.auto_ack = auto_ack;
  return o;
}

std::shared_ptr<CallLeg> ThirdPartyCall::dial(const std::string& uri, std::string_view sdp, bool auto_ack,
                                              std::string_view name, std::vector<sip::HeaderField> headers) {
  auto options = leg_options(auto_ack);
  options.headers.insert(options.headers.end(), headers.begin(), headers.end());
  return dialer_->invite(uri, sdp, options, name, *this);
}

bool ThirdPartyCall::active() const {
  return phase_ != Phase::DeviceSetup && phase_ != Phase::TargetSetup && phase_ != Phase::IncomingSetup &&
         phase_ != Phase::IncomingAck && phase_ != Phase::Ended;
}

bool ThirdPartyCall::moving() const {
  return phase_ == Phase::MoveReplaces || phase_ == Phase::MoveDeviceOffer || phase_ == Phase::MoveNewTarget;
}

sip::Call* ThirdPartyCall::dialog(std::string_view leg) const {
  auto& l = leg == "device" ? device_ : target_;
  return l ? l->dialog() : nullptr;
}

void ThirdPartyCall::add_call_ids(base::CallLog& log) const {
  ServiceCall::add_call_ids(log);
  if (new_target_ && new_target_->dialog()) log.add_call_id(new_target_->dialog()->call_id());
}

void ThirdPartyCall::start(Completion done) {
  started_ = std::move(done);
  device_ = dial(device_uri_, "", false, "device");
  log().info("call {}: {} -> {} (loop mode), INVITE without offer to the device", id_, device_uri_, target_uri_);
  if (!device_) end(500, "could not call the device");
}

void ThirdPartyCall::answer(std::shared_ptr<CallLeg> caller, std::unique_ptr<PendingRequest> invite,
                            const std::string& offer, Completion done) {
  started_ = std::move(done);
  phase_ = Phase::IncomingSetup;
  target_ = std::move(caller);
  target_->attach(this);
  target_sdp_ = offer;
  caller_invite_ = std::move(invite);
  log().info("call {}: incoming from {}, ringing {} ({})", id_, target_uri_, device_uri_,
               target_sdp_.empty() ? "no offer: the device's goes in our 2xx" : "with the caller's offer");
  device_ = dial(device_uri_, target_sdp_, false, "device");
  if (!device_) end(500, "could not call the device");
}

void ThirdPartyCall::become_active() {
  phase_ = Phase::Active;
  auto call_id = [this](std::string_view leg) {
    sip::Call* d = dialog(leg);
    return d ? d->call_id() : std::string("?");
  };
  log().info("call {}: active ({} <-> {}; call-ids device {}, target {})", id_, device_uri_, target_uri_,
               call_id("device"), call_id("target"));
  observer_.on_call_state(*this, CallState::Active, 200, "OK");
  if (keepalive_.count() > 0)
    keepalive_timer_.every(keepalive_, [this] {
      if (phase_ == Phase::Ended) return;
      if (device_ && device_->established()) device_->ping();
      if (target_ && target_->established()) target_->ping();
    });
  if (started_) std::exchange(started_, nullptr)(200, "OK");
}

// ---- responses to our INVITEs and re-INVITEs: one handler per phase ----

void ThirdPartyCall::on_answer(CallLeg& leg, int status, const std::string& reason, const std::string& sdp) {
  Response r{status, reason, sdp};
  if (&leg == device_.get()) {
    switch (phase_) {
      case Phase::DeviceSetup: return device_setup_answered(r);
      case Phase::IncomingSetup: return incoming_device_answered(r);
      case Phase::RelayFromTarget: return relay_answered(leg, r);
      case Phase::MoveDeviceOffer: return move_device_offered(r);
      default: return;
    }
  }
  if (&leg == target_.get()) {
    switch (phase_) {
      case Phase::TargetSetup: return target_setup_answered(r);
      case Phase::RelayFromDevice: return relay_answered(leg, r);
      case Phase::MoveNewTarget: return refreshing_ ? refresh_answered(r) : void();
      default: return;
    }
  }
  if (&leg == new_target_.get()) {
    if (phase_ == Phase::MoveReplaces) return replaces_answered(r);
    if (phase_ == Phase::MoveNewTarget) return new_target_answered(r);
  }
}

void ThirdPartyCall::device_setup_answered(const Response& r) {
  if (r.provisional()) {
    if ((r.status == 180 || r.status == 183) && !rang_) {
      rang_ = true;
      observer_.on_call_state(*this, CallState::Ringing, r.status, r.reason);
    }
    return;
  }
  if (r.failed()) return end(r.status, "device: " + r.reason);
  if (r.sdp.empty()) return end(488, "the device answered without an offer");
  device_sdp_ = r.sdp;
  phase_ = Phase::TargetSetup;
  target_ = dial(target_uri_, device_sdp_, true, "target");
  if (!target_) end(500, "could not call the target");
}

void ThirdPartyCall::target_setup_answered(const Response& r) {
  if (r.provisional()) return;
  if (r.failed()) return end(r.status, "target: " + r.reason);
  target_sdp_ = r.sdp;
  device_->ack(target_sdp_);
  become_active();
}

void ThirdPartyCall::incoming_device_answered(const Response& r) {
  if (r.provisional()) {
    if ((r.status == 180 || r.status == 183) && !rang_) {
      rang_ = true;
      caller_invite_->respond(180, "Ringing");
      observer_.on_call_state(*this, CallState::Ringing, r.status, r.reason);
    }
    return;
  }
  if (r.failed()) {
    // The caller gets the device's refusal, except what it cannot act on
    // (a redirect to the device, a challenge for the service's credentials).
    bool relayable = r.status >= 400 && r.status != 401 && r.status != 407;
    caller_invite_->respond(relayable ? r.status : 480, relayable ? r.reason : "Temporarily Unavailable");
    caller_invite_.reset();
    return end(r.status, "device: " + r.reason);
  }
  if (r.sdp.empty()) {
    device_->ack();
    return end(488, "the device answered without a session description");
  }
  device_sdp_ = r.sdp;
  caller_invite_->respond(200, "OK", device_sdp_);
  caller_invite_.reset();
  caller_answered_ = true;
  if (target_sdp_.empty()) {  // the device offered: the caller's answer comes in its ACK
    phase_ = Phase::IncomingAck;
    return;
  }
  device_->ack();
  become_active();
}

void ThirdPartyCall::on_ack(CallLeg& leg, const std::string& sdp) {
  if (&leg != target_.get() || phase_ != Phase::IncomingAck) return;
  if (sdp.empty()) {
    device_->ack();
    return end(488, "the caller's ACK carried no answer to the device's offer");
  }
  target_sdp_ = sdp;
  device_->ack(target_sdp_);
  become_active();
}

// ---- offers relayed between the two sides (hold, resume, codec changes) ----

void ThirdPartyCall::on_reoffer(CallLeg& leg, std::unique_ptr<PendingRequest> request, const std::string& sdp) {
  bool from_device = &leg == device_.get(), from_target = &leg == target_.get();
  if (!from_device && !from_target) return request->respond(481, "Call/Transaction Does Not Exist");
  if (phase_ != Phase::Active) return request->respond(491, "Request Pending");
  // An offerless re-INVITE (a session refresh): offer what the other side last gave.
  if (sdp.empty()) return request->respond(200, "OK", from_device ? target_sdp_ : device_sdp_);
  relayed_ = std::move(request);
  if (from_device) {
    device_sdp_ = sdp;
    phase_ = Phase::RelayFromDevice;
    target_->reinvite(sdp);
  } else {
    phase_ = Phase::RelayFromTarget;
    device_->reinvite(sdp);
  }
}

void ThirdPartyCall::relay_answered(CallLeg& from, const Response& r) {
  if (r.provisional()) return;
  if (r.failed()) {
    relayed_->respond(r.status, r.reason);
  } else {
    if (&from == device_.get()) {
      device_->ack();
      device_sdp_ = r.sdp;
    } else {
      target_sdp_ = r.sdp;
    }
    relayed_->respond(200, "OK", r.sdp);
  }
  relayed_.reset();
  phase_ = Phase::Active;
}

// ---- moves (SameDeviceJoin) ----

void ThirdPartyCall::move_to(const std::string& target, bool try_replaces, MoveCompletion done) {
  if (phase_ != Phase::Active) {
    done(phase_ == Phase::Ended ? 481 : 491, phase_ == Phase::Ended ? "the call has ended" : "the call is busy", "");
    return;
  }
  moved_ = std::move(done);
  new_target_uri_ = target;
  refreshing_ = false;
  observer_.on_call_state(*this, CallState::Moving, 100, target);
  auto ours = target_->replaces();
  if (try_replaces && target_->established() && !ours.to_tag.empty()) {
    phase_ = Phase::MoveReplaces;
    log().info("call {}: moving to {} with Replaces", id_, target);
    new_target_ = dial(target, device_sdp_, true, "target", {{"Replaces", ours.str()}});
    if (new_target_) return;
  }
  start_reinvite_move();
}

void ThirdPartyCall::replaces_answered(const Response& r) {
  if (r.provisional()) return;
  if (r.failed()) {
    log().info("call {}: Replaces refused by {} ({} {}), moving by re-INVITE instead", id_, new_target_uri_,
                 r.status, r.reason);
    new_target_.reset();
    return start_reinvite_move();
  }
  // The new dialog replaces ours with the old conference; the server ends that one.
  if (target_ && !target_->terminated()) old_targets_.push_back(target_);
  target_ = std::move(new_target_);
  target_uri_ = new_target_uri_;
  if (r.sdp.empty() || sip::same_audio_address(r.sdp, target_sdp_)) {
    if (!r.sdp.empty()) target_sdp_ = r.sdp;
    return finish_move(200, "OK", "replaces");
  }
  // The new server sends media from elsewhere: the device must learn it.
  target_sdp_ = r.sdp;
  refreshing_ = true;
  phase_ = Phase::MoveDeviceOffer;
  device_->reinvite("");
}

void ThirdPartyCall::start_reinvite_move() {
  log().info("call {}: moving to {} by re-INVITE of the device", id_, new_target_uri_);
  phase_ = Phase::MoveDeviceOffer;
  device_->reinvite("");
}

void ThirdPartyCall::move_device_offered(const Response& r) {
  if (r.provisional()) return;
  if (r.failed()) return finish_move(r.status, "the device refused the re-INVITE: " + r.reason, "reinvite");
  if (r.sdp.empty()) {
    device_->ack(target_sdp_);
    return finish_move(488, "the device answered the re-INVITE without an offer", "reinvite");
  }
  device_sdp_ = r.sdp;
  phase_ = Phase::MoveNewTarget;
  if (refreshing_) return target_->reinvite(device_sdp_);
  new_target_ = dial(new_target_uri_, device_sdp_, true, "target");
  if (!new_target_) {
    device_->ack(target_sdp_);
    finish_move(500, "could not call the new target", "reinvite");
  }
}

void ThirdPartyCall::new_target_answered(const Response& r) {
  if (r.provisional()) return;
  if (r.failed()) {
    new_target_.reset();
    device_->ack(target_sdp_);  // the device goes on with the old target
    return finish_move(r.status, "the new target refused: " + r.reason, "reinvite");
  }
  target_sdp_ = r.sdp;
  device_->ack(target_sdp_);
  auto old = std::move(target_);
  target_ = std::move(new_target_);
  target_uri_ = new_target_uri_;
  old_targets_.push_back(old);
  old->hangup();  // break after make
  finish_move(200, "OK", "reinvite");
}

void ThirdPartyCall::refresh_answered(const Response& r) {
  if (r.provisional()) return;
  if (r.failed()) {
    device_->ack(target_sdp_);
    return finish_move(r.status, "the new target refused the new offer: " + r.reason, "replaces");
  }
  target_sdp_ = r.sdp;
  device_->ack(target_sdp_);
  finish_move(200, "OK", "replaces");
}

void ThirdPartyCall::finish_move(int status, const std::string& reason, const std::string& how) {
  phase_ = Phase::Active;
  refreshing_ = false;
  if (status < 300) {
    log().info("call {}: moved to {} ({})", id_, target_uri_, how);
    observer_.on_call_state(*this, CallState::Moved, status, target_uri_);
  } else {
    log().warn("call {}: move to {} failed: {} {}", id_, new_target_uri_, status, reason);
  }
  if (moved_) std::exchange(moved_, nullptr)(status, reason, how);
}

// ---- conference invitations, keepalive, the end ----

void ThirdPartyCall::refer_target(const std::string& uri, Completion done) {
  if (!target_ || !active()) return done(481, "no active call");
  refers_.push_back(std::move(done));
  target_->refer(uri);
}

void ThirdPartyCall::on_refer_response(CallLeg& leg, int status, const std::string& reason, uint32_t cseq) {
  if (&leg != target_.get() || refers_.empty()) return;
  auto done = std::move(refers_.front());
  refers_.pop_front();
  if (status >= 300) return done(status, reason);
  if (auto early = early_outcomes_.find(cseq); early != early_outcomes_.end()) {
    auto [outcome, why] = early->second;
    early_outcomes_.erase(early);
    return done(outcome, why);
  }
  invitations_[cseq] = std::move(done);
}

void ThirdPartyCall::on_refer_notify(CallLeg& leg, uint32_t refer_cseq, int status, const std::string& reason) {
  if (&leg != target_.get() || status < 200) return;  // progress (100 Trying, 180 Ringing)
  // No id: RFC 3515 allows it for the first REFER of a dialog, so only when one is waiting.
  if (refer_cseq == 0 && invitations_.size() == 1) refer_cseq = invitations_.begin()->first;
  auto it = invitations_.find(refer_cseq);
  if (it == invitations_.end()) {
    if (early_outcomes_.size() < 64) early_outcomes_[refer_cseq] = {status, reason};
    return;
  }
  auto done = std::move(it->second);
  invitations_.erase(it);
  done(status, reason);
}

void ThirdPartyCall::on_ping_response(CallLeg& leg, int status, const std::string& reason) {
  // 405/501 and the like: alive, it just does not do OPTIONS. These three mean gone.
  bool gone = status == 408 || status == 481 || status == 503;
  if (!gone || phase_ == Phase::Ended || (&leg != device_.get() && &leg != target_.get())) return;
  bool device = &leg == device_.get();
  log().warn("call {}: the {} stopped answering ({} {}), ending the call", id_, device ? "device" : "target", status,
               reason);
  end(status, device ? "the device is gone" : "the target is gone");
}

void ThirdPartyCall::hangup() { end(200, "hung up"); }

void ThirdPartyCall::end(int status, std::string_view reason) {
  if (phase_ == Phase::Ended) return check_gone();
  bool was_moving = moving();
  phase_ = Phase::Ended;
  keepalive_timer_.cancel();
  log().info("call {}: ended ({} {})", id_, status, reason);
  if (relayed_) {
    relayed_->respond(481, "Call/Transaction Does Not Exist");
    relayed_.reset();
  }
  // An incoming call not answered yet: the caller gets a final response, not a BYE.
  bool caller_unanswered = incoming() && !caller_answered_;
  if (caller_invite_) {  // a Hangup while it rings, the device or the service failing
    caller_invite_->respond(status >= 400 ? status : 480, status >= 400 ? reason : "Temporarily Unavailable");
    caller_invite_.reset();
  }
  for (auto* leg : {&device_, &target_, &new_target_})
    if (*leg && !(*leg)->terminated() && !(caller_unanswered && leg == &target_)) (*leg)->hangup();
  observer_.on_call_state(*this, CallState::Ended, status, reason);
  if (started_) std::exchange(started_, nullptr)(status >= 300 ? status : 487, std::string(reason));
  if (was_moving && moved_) std::exchange(moved_, nullptr)(481, "the call ended", "");
  for (auto& done : std::exchange(refers_, {})) done(481, "the call ended");
  for (auto& [cseq, done] : std::exchange(invitations_, {})) done(481, "the call ended");
  check_gone();
}

void ThirdPartyCall::on_ended(CallLeg& leg, int status, const std::string& reason) {
  auto is = [&leg](const std::shared_ptr<CallLeg>& l) { return l.get() == &leg; };
  std::erase_if(old_targets_, is);
  if (is(new_target_) && phase_ != Phase::Ended) {
    // Ended without a final response reaching on_answer (a transport error).
    new_target_.reset();
    if (phase_ == Phase::MoveReplaces) return start_reinvite_move();
    if (phase_ == Phase::MoveNewTarget) {
      device_->ack(target_sdp_);
      return finish_move(status >= 300 ? status : 408, "the new target did not answer", "reinvite");
    }
  }
  if (is(device_) && phase_ != Phase::Ended) return end(status >= 300 ? status : 200, "the device hung up");
  if (is(target_) && phase_ != Phase::Ended) {
    if (phase_ == Phase::MoveReplaces) {  // the old conference ended our dialog early: the move goes on
      target_.reset();
      return;
    }
    return end(status >= 300 ? status : 200, std::string(other_side()) + " ended the call");
  }
  check_gone();
}

void ThirdPartyCall::check_gone() {
  if (gone_ || phase_ != Phase::Ended || !old_targets_.empty()) return;
  for (auto* leg : {&device_, &target_, &new_target_})
    if (*leg && !(*leg)->terminated()) return;
  gone_ = true;
  observer_.on_call_gone(*this);
}

}  // namespace confab::service
