#include "service/third_party_call.h"

#include <spdlog/spdlog.h>

#include "sip/sdp.h"

namespace confab::service {

namespace {
constexpr const char* kSdp = "application/sdp";
}

ThirdPartyCall::ThirdPartyCall(sip::EventLoop& loop, sip::UserAgent& ua, CallObserver& observer, std::string id,
                               std::string device_id, std::string device_uri, std::string target_uri,
                               sip::CallOptions options, std::chrono::seconds keepalive)
    : ServiceCall(observer, std::move(id), std::move(device_id), std::move(device_uri), std::move(target_uri)),
      ua_(ua),
      keepalive_timer_(loop),
      keepalive_(keepalive),
      options_(std::move(options)) {}

ThirdPartyCall::~ThirdPartyCall() {
  for (auto* leg : {&device_, &target_, &new_target_})
    if (*leg) {
      (*leg)->set_handler(nullptr);
      if (!(*leg)->terminated()) (*leg)->hangup();
    }
  for (auto& old : old_targets_) old->set_handler(nullptr);
}

sip::CallOptions ThirdPartyCall::leg_options(bool auto_ack) const {
  sip::CallOptions o = options_;
  o.auto_ack = auto_ack;
  return o;
}

void ThirdPartyCall::start(Completion done) {
  started_ = std::move(done);
  spdlog::info("call {}: {} -> {} (loop mode), INVITE without offer to the device", id_, device_uri_, target_uri_);
  device_ = ua_.invite(device_uri_, "", *this, leg_options(false));
}

void ThirdPartyCall::answer(std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite, Completion done) {
  started_ = std::move(done);
  incoming_ = true;
  phase_ = Phase::IncomingSetup;
  target_ = std::move(caller);
  target_->set_handler(this);
  target_sdp_ = std::string(invite.message().body());
  caller_invite_.emplace(std::move(invite));
  spdlog::info("call {}: incoming from {}, ringing {} ({})", id_, target_uri_, device_uri_,
               target_sdp_.empty() ? "no offer: the device's goes in our 2xx" : "with the caller's offer");
  device_ = ua_.invite(device_uri_, target_sdp_, *this, leg_options(false));
  if (!device_) end(500, "could not call the device");
}

void ThirdPartyCall::become_active() {
  phase_ = Phase::Active;
  spdlog::info("call {}: active ({} <-> {})", id_, device_uri_, target_uri_);
  observer_.on_call_state(*this, "active", 200, "OK");
  if (keepalive_.count() > 0)
    keepalive_timer_.every(keepalive_, [this] {
      if (phase_ == Phase::Ended) return;
      if (device_ && device_->established()) device_->ping();
      if (target_ && target_->established()) target_->ping();
    });
  if (started_) std::exchange(started_, nullptr)(200, "OK");
}

void ThirdPartyCall::on_ack(sip::Call& call, const sip::Message& ack) {
  if (&call != target_.get() || phase_ != Phase::IncomingAck) return;
  std::string answer(ack.body());
  if (answer.empty()) {
    device_->ack();
    return end(488, "the caller's ACK carried no answer to the device's offer");
  }
  target_sdp_ = answer;
  device_->ack(target_sdp_);
  become_active();
}

void ThirdPartyCall::on_invite_response(sip::Call& call, int status, const sip::Message& response) {
  std::string body(response.body());
  std::string reason(response.reason());

  if (&call == device_.get()) {
    switch (phase_) {
      case Phase::DeviceSetup:
        if (status < 200) {
          if (status == 180 || status == 183) {
            if (!rang_) observer_.on_call_state(*this, "ringing", status, reason);
            rang_ = true;
          }
          return;
        }
        if (status >= 300) return end(status, "device: " + reason);
        if (body.empty()) {
          end(488, "the device answered without an offer");
          return;
        }
        device_sdp_ = body;
        phase_ = Phase::TargetSetup;
        target_ = ua_.invite(target_uri_, device_sdp_, *this, leg_options(true));
        return;
      case Phase::IncomingSetup:
        if (status < 200) {
          if ((status == 180 || status == 183) && !rang_) {
            rang_ = true;
            caller_invite_->respond(180, "Ringing");
            observer_.on_call_state(*this, "ringing", status, reason);
          }
          return;
        }
        if (status >= 300) {
          // The caller gets the device's refusal, except what it cannot act on
          // (a redirect to the device, a challenge for the service's credentials).
          bool relayable = status >= 400 && status != 401 && status != 407;
          caller_invite_->respond(relayable ? status : 480, relayable ? reason : "Temporarily Unavailable");
          caller_invite_.reset();
          return end(status, "device: " + reason);
        }
        if (body.empty()) {
          device_->ack();
          return end(488, "the device answered without a session description");
        }
        device_sdp_ = body;
        caller_invite_->respond(200, "OK", {}, kSdp, device_sdp_);
        caller_invite_.reset();
        caller_answered_ = true;
        if (target_sdp_.empty()) {  // the device offered: the caller's answer comes in its ACK
          phase_ = Phase::IncomingAck;
          return;
        }
        device_->ack();
        return become_active();
      case Phase::RelayFromTarget:
        if (status < 200) return;
        if (status < 300) {
          device_->ack();
          device_sdp_ = body;
        }
        return complete_relay(status, reason, body);
      case Phase::MoveDeviceOffer:
        if (status < 200) return;
        if (status >= 300) return finish_move(status, "the device refused the re-INVITE: " + reason, "reinvite");
        if (body.empty()) {
          device_->ack(target_sdp_);
          return finish_move(488, "the device answered the re-INVITE without an offer", "reinvite");
        }
        device_sdp_ = body;
        phase_ = Phase::MoveNewTarget;
        if (refreshing_)
          target_->reinvite(device_sdp_);
        else
          new_target_ = ua_.invite(new_target_uri_, device_sdp_, *this, leg_options(true));
        return;
      default:
        return;
    }
  }

  if (&call == target_.get() && phase_ == Phase::TargetSetup) {
    if (status < 200) return;
    if (status >= 300) return end(status, "target: " + reason);
    target_sdp_ = body;
    device_->ack(target_sdp_);
    return become_active();
  }

  if (&call == target_.get() && phase_ == Phase::RelayFromDevice) {
    if (status < 200) return;
    if (status < 300) target_sdp_ = body;
    return complete_relay(status, reason, body);
  }

  if (&call == target_.get() && phase_ == Phase::MoveNewTarget && refreshing_) {
    if (status < 200) return;
    if (status >= 300) {
      device_->ack(target_sdp_);
      return finish_move(status, "the new target refused the new offer: " + reason, "replaces");
    }
    target_sdp_ = body;
    device_->ack(target_sdp_);
    return finish_move(200, "OK", "replaces");
  }

  if (&call == new_target_.get()) {
    if (status < 200) return;
    if (phase_ == Phase::MoveReplaces) {
      if (status >= 300) {
        spdlog::info("call {}: Replaces refused by {} ({} {}), moving by re-INVITE instead", id_, new_target_uri_,
                     status, reason);
        new_target_.reset();
        return start_reinvite_move();
      }
      // The new dialog replaces ours with the old conference; the server ends that one.
      if (target_ && !target_->terminated()) old_targets_.push_back(target_);
      target_ = std::move(new_target_);
      target_uri_ = new_target_uri_;
      if (body.empty() || sip::same_audio_address(body, target_sdp_)) {
        if (!body.empty()) target_sdp_ = body;
        return finish_move(200, "OK", "replaces");
      }
      // The new server sends media from elsewhere: the device must learn it.
      target_sdp_ = body;
      refreshing_ = true;
      phase_ = Phase::MoveDeviceOffer;
      device_->reinvite("");
      return;
    }
    if (phase_ == Phase::MoveNewTarget) {
      if (status >= 300) {
        new_target_.reset();
        device_->ack(target_sdp_);  // the device goes on with the old target
        return finish_move(status, "the new target refused: " + reason, "reinvite");
      }
      target_sdp_ = body;
      device_->ack(target_sdp_);
      auto old = std::move(target_);
      target_ = std::move(new_target_);
      target_uri_ = new_target_uri_;
      old_targets_.push_back(old);
      old->hangup();  // break after make
      return finish_move(200, "OK", "reinvite");
    }
  }
}

void ThirdPartyCall::complete_relay(int status, const std::string& reason, const std::string& answer) {
  if (status < 300)
    relayed_->respond(200, "OK", {}, kSdp, answer);
  else
    relayed_->respond(status, reason);
  relayed_.reset();
  phase_ = Phase::Active;
}

void ThirdPartyCall::on_reinvite(sip::Call& call, sip::IncomingRequest request) {
  bool from_device = &call == device_.get(), from_target = &call == target_.get();
  if (!from_device && !from_target) return request.respond(481, "Call/Transaction Does Not Exist");
  if (phase_ != Phase::Active) return request.respond(491, "Request Pending");
  std::string offer(request.message().body());
  if (offer.empty()) {
    // An offerless re-INVITE (a session refresh): offer what the other side last gave.
    return request.respond(200, "OK", {}, kSdp, from_device ? target_sdp_ : device_sdp_);
  }
  relayed_.emplace(std::move(request));
  if (from_device) {
    device_sdp_ = offer;
    phase_ = Phase::RelayFromDevice;
    target_->reinvite(offer);
  } else {
    phase_ = Phase::RelayFromTarget;
    device_->reinvite(offer);
  }
}

void ThirdPartyCall::move_to(const std::string& target, bool try_replaces,
                             std::function<void(int, const std::string&, const std::string&)> done) {
  if (phase_ != Phase::Active) {
    done(phase_ == Phase::Ended ? 481 : 491, phase_ == Phase::Ended ? "the call has ended" : "the call is busy", "");
    return;
  }
  moved_ = std::move(done);
  new_target_uri_ = target;
  refreshing_ = false;
  observer_.on_call_state(*this, "moving", 100, target);
  if (try_replaces && target_->established() && !target_->remote_tag().empty()) {
    phase_ = Phase::MoveReplaces;
    sip::ReplacesHeader r{target_->call_id(), target_->remote_tag(), target_->local_tag(), false};
    auto options = leg_options(true);
    options.headers.push_back({"Replaces", r.str()});
    spdlog::info("call {}: moving to {} with Replaces", id_, target);
    new_target_ = ua_.invite(target, device_sdp_, *this, options);
    return;
  }
  start_reinvite_move();
}

void ThirdPartyCall::start_reinvite_move() {
  spdlog::info("call {}: moving to {} by re-INVITE of the device", id_, new_target_uri_);
  phase_ = Phase::MoveDeviceOffer;
  device_->reinvite("");
}

void ThirdPartyCall::finish_move(int status, const std::string& reason, const std::string& how) {
  phase_ = Phase::Active;
  refreshing_ = false;
  if (status < 300) {
    spdlog::info("call {}: moved to {} ({})", id_, target_uri_, how);
    observer_.on_call_state(*this, "moved", status, target_uri_);
  } else {
    spdlog::warn("call {}: move to {} failed: {} {}", id_, new_target_uri_, status, reason);
  }
  if (moved_) std::exchange(moved_, nullptr)(status, reason, how);
}

void ThirdPartyCall::hangup() { end(200, "hung up"); }

void ThirdPartyCall::refer_target(const std::string& uri, Completion done) {
  if (!target_ || !active()) return done(481, "no active call");
  refers_.push_back(std::move(done));
  target_->refer(uri);
}

void ThirdPartyCall::on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) {
  if (method == sip::Method::Options) {
    // 405/501 and the like: alive, it just does not do OPTIONS. These three mean gone.
    if ((status == 408 || status == 481 || status == 503) && phase_ != Phase::Ended &&
        (&call == device_.get() || &call == target_.get())) {
      spdlog::warn("call {}: the {} stopped answering ({} {}), ending the call", id_,
                   &call == device_.get() ? "device" : "target", status, response ? response.reason() : "");
      end(status, &call == device_.get() ? "the device is gone" : "the target is gone");
    }
    return;
  }
  if (method != sip::Method::Refer || refers_.empty()) return;
  auto done = std::move(refers_.front());
  refers_.pop_front();
  done(status, std::string(response.reason()));
}

void ThirdPartyCall::end(int status, std::string_view reason) {
  if (phase_ == Phase::Ended) return check_gone();
  bool was_moving = phase_ == Phase::MoveReplaces || phase_ == Phase::MoveDeviceOffer || phase_ == Phase::MoveNewTarget;
  phase_ = Phase::Ended;
  keepalive_timer_.cancel();
  spdlog::info("call {}: ended ({} {})", id_, status, reason);
  if (relayed_) {
    relayed_->respond(481, "Call/Transaction Does Not Exist");
    relayed_.reset();
  }
  // An incoming call not answered yet: the caller gets a final response, not a BYE.
  bool caller_unanswered = incoming_ && !caller_answered_;
  if (caller_invite_) {  // a Hangup while it rings, the device or the service failing
    caller_invite_->respond(status >= 400 ? status : 480, status >= 400 ? reason : "Temporarily Unavailable");
    caller_invite_.reset();
  }
  for (auto* leg : {&device_, &target_, &new_target_})
    if (*leg && !(*leg)->terminated() && !(caller_unanswered && leg == &target_)) (*leg)->hangup();
  observer_.on_call_state(*this, "ended", status, reason);
  if (started_) std::exchange(started_, nullptr)(status >= 300 ? status : 487, std::string(reason));
  if (was_moving && moved_) std::exchange(moved_, nullptr)(481, "the call ended", "");
  for (auto& done : std::exchange(refers_, {})) done(481, "the call ended");
  check_gone();
}

void ThirdPartyCall::on_info(sip::Call& call, sip::IncomingRequest request) {
  if (leg_listener_) leg_listener_->on_leg_request(*this, leg_name(call), request);
  if (!request.answered()) request.respond(200, "OK");
}

void ThirdPartyCall::on_request(sip::Call& call, sip::IncomingRequest request) {
  if (leg_listener_) leg_listener_->on_leg_request(*this, leg_name(call), request);
  if (!request.answered()) request.respond(405, "Method Not Allowed");
}

void ThirdPartyCall::on_method_response(sip::Call& call, int status, std::string_view phrase,
                                        const sip::Message& response) {
  if (leg_listener_) leg_listener_->on_leg_response(*this, call, status, phrase, response);
}

void ThirdPartyCall::on_terminated(sip::Call& call, int status, std::string_view reason) {
  if (leg_listener_) leg_listener_->on_leg_ended(*this, call);
  auto is = [&call](const std::shared_ptr<sip::Call>& c) { return c.get() == &call; };
  std::erase_if(old_targets_, is);
  if (is(new_target_) && phase_ != Phase::Ended) {
    // Ended without a final response reaching on_invite_response (a transport error).
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
