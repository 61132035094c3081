#include "conference/participant.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "mixer/mixer_server.h"  // kControlContentType: the mixer's leg control protocol
#include "sip/sdp.h"
#include "sip/uri.h"

namespace confab::conference {

namespace {

constexpr const char* kSdp = "application/sdp";

// The participant holds the call when it stops receiving (RFC 3264 8.4: sendonly or inactive).
bool holds(std::string_view sdp) {
  auto d = sip::SessionDescription::parse(sdp);
  const sip::SdpMedia* audio = d ? d->audio() : nullptr;
  return audio && !sip::receives(audio->direction);
}

std::vector<sip::HeaderField> warning_of(const sip::Message* response) {
  if (!response || !*response) return {};
  auto w = response->header("Warning");
  return w ? std::vector<sip::HeaderField>{{"Warning", *w}} : std::vector<sip::HeaderField>{};
}

}  // namespace

Participant::Participant(sip::UserAgent& ua, ParticipantObserver& observer, std::string id, std::string conference,
                         std::string mixer_uri)
    : ua_(ua), observer_(observer), id_(std::move(id)), conference_(std::move(conference)),
      mixer_uri_(std::move(mixer_uri)) {}

Participant::~Participant() {
  // Legs that outlive us (shutdown) must not call back into freed memory.
  if (caller_) caller_->set_handler(nullptr);
  if (mixer_) mixer_->set_handler(nullptr);
  for (auto& r : replaced_) r->set_handler(nullptr);
}

void Participant::dial_in(std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite) {
  caller_ = std::move(caller);
  caller_->set_handler(this);
  log_.add_call_id(caller_->call_id());
  const sip::Message& m = invite.message();
  uri_ = m.from_uri();
  display_ = std::string(m.from_display());
  auto contacts = m.contacts();
  contact_ = contacts.empty() ? uri_ : contacts.front().uri;
  joining_ = Joining::DialedIn;
  std::string offer(m.body());
  if (!offer.empty() && m.content_type() != kSdp) {
    invite.respond(415, "Unsupported Media Type", {{"Accept", kSdp}});
    return;
  }
  waiting_.emplace(std::move(invite));
  waiting_method_ = sip::Method::Invite;
  relay_ = offer.empty() ? Relay::CallerNoOffer : Relay::CallerOffer;
  if (!offer.empty()) note_caller_sdp(offer);
  start_mixer_leg(offer);
}

bool Participant::dial_out(const std::string& target, const std::string& from,
                           const std::vector<sip::HeaderField>& headers, const std::string& proxy) {
  joining_ = Joining::DialedOut;
  uri_ = contact_ = target;
  sip::CallOptions o;
  o.auto_ack = false;  // the answer to the callee's offer comes from the mixer
  o.headers = headers;
  o.from = from;
  o.proxy = proxy;
  relay_ = Relay::DialOut;
  caller_ = ua_.invite(target, "", *this, o);
  return caller_ != nullptr;
}

void Participant::start_mixer_leg(std::string_view offer) {
  auto mix = sip::Uri::parse(mixer_uri_);
  if (mix) mix->set_user(conference_);
  sip::CallOptions o;
  o.auto_ack = false;  // every 2xx of the mixer leg is acknowledged here, with the caller's answer if need be
  mixer_ = mix ? ua_.invite(mix->str(), offer, *this, o) : nullptr;
  if (!mixer_) {
    log_.error("participant {}: cannot call the mixer at {}", id_, mixer_uri_);
    answer_caller(503, "Mixer Unreachable", nullptr, {});
    if (caller_) caller_->hangup();
  }
}

void Participant::note_caller_sdp(std::string_view sdp) {
  caller_sdp_ = std::string(sdp);
  bool hold = holds(sdp);
  if (hold != on_hold_) {
    on_hold_ = hold;
    if (connected_) observer_.on_changed(*this);
  }
}

// Answers the request waiting for the mixer (a caller's INVITE, re-INVITE or UPDATE).
void Participant::answer_caller(int status, std::string_view reason, const sip::Message* response,
                                std::string_view sdp) {
  if (!waiting_) return;
  auto request = std::move(*waiting_);
  waiting_.reset();
  relay_ = Relay::None;
  if (status >= 300)
    request.respond(status, reason, warning_of(response));
  else
    request.respond(status, reason, {}, sdp.empty() ? std::string_view() : kSdp, sdp);
}

void Participant::set_connected() {
  if (connected_) return;
  connected_ = true;
  joined_at_ = std::chrono::system_clock::now();
  observer_.on_connected(*this);
}

void Participant::on_invite_response(sip::Call& call, int status, const sip::Message& response) {
  std::string body(response.body());
  if (&call == mixer_.get()) {
    if (log_.call_ids().find(call.call_id()) == std::string::npos) {
      log_.add_call_id(call.call_id());
      log_.debug("participant {}: the mixer leg's Call-ID is {}", id_, call.call_id());
    }
    if (status < 200) return;
    if (status >= 300) {
      // A response the stack made up (timeout, port unreachable): the mixer did not answer.
      bool answered = response && !response.is_local();
      std::string reason = answered ? std::string(response.reason()) : "Mixer " + mixer_uri_ + " Not Answering";
      if (answered)
        log_.warn("participant {}: the mixer at {} answered {} {}", id_, mixer_uri_, status, response.reason());
      else
        log_.warn("participant {}: the mixer at {} does not answer ({} {}): is confab mixer running there?", id_,
                     mixer_uri_, status, response ? response.reason() : "");
      if (relay_ == Relay::CallerOffer || relay_ == Relay::CallerNoOffer)
        answer_caller(answered ? status : 503, reason, &response, {});
      else if (relay_ == Relay::DialOut && caller_)
        caller_->hangup();  // acknowledges the callee's 2xx, then BYE
      relay_ = Relay::None;
      return;
    }
    mixer_sdp_ = body.empty() ? mixer_sdp_ : body;
    switch (relay_) {
      case Relay::CallerOffer:
        mixer_->ack();
        answer_caller(200, "OK", &response, body);
        set_connected();
        break;
      case Relay::CallerNoOffer:  // the mixer's offer goes to the caller; its ACK answers
        if (waiting_) {
          auto request = std::move(*waiting_);
          waiting_.reset();
          request.respond(200, "OK", {}, kSdp, body);
        }
        break;
      case Relay::DialOut:
        mixer_->ack();
        caller_->ack(body);
        relay_ = Relay::None;
        set_connected();
        break;
      default:
        if (mixer_->auto_ack() == false) mixer_->ack();
        break;
    }
    return;
  }
  if (&call != caller_.get()) return;
  log_.add_call_id(call.call_id());  // a dial-out's Call-ID is known from its first response
  if (relay_ == Relay::DialOut) {
    observer_.on_dial_progress(*this, status, response.reason());
    if (status < 200 || status >= 300) return;  // a failure ends the call: on_terminated
    if (body.empty()) {
      log_.warn("participant {}: {} answered without an offer", id_, uri_);
      caller_->hangup();
      return;
    }
    auto contacts = response.contacts();
    if (!contacts.empty()) contact_ = contacts.front().uri;
    if (display_.empty()) display_ = caller_->remote_display();
    note_caller_sdp(body);
    start_mixer_leg(body);
    return;
  }
  if (relay_ == Relay::MixerOffer && waiting_method_ == sip::Method::Invite && status >= 200) {
    if (status < 300 && !caller_->auto_ack()) caller_->ack();
    if (status < 300) note_caller_sdp(body);
    answer_caller(status < 300 ? 200 : status, status < 300 ? "OK" : response.reason(), &response, body);
  }
}

void Participant::on_reinvite(sip::Call& call, sip::IncomingRequest request) {
  bool from_caller = &call == caller_.get();
  if (!from_caller && &call != mixer_.get()) {
    request.respond(481, "Call/Transaction Does Not Exist");
    return;
  }
  if (relay_ != Relay::None || waiting_) {
    request.respond(491, "Request Pending");
    return;
  }
  sip::Method method = request.message().method();
  std::string offer(request.message().body());
  if (from_caller) {
    if (offer.empty() && method == sip::Method::Update) {  // an UPDATE without an offer changes nothing here
      request.respond(200, "OK");
      return;
    }
    if (!offer.empty()) note_caller_sdp(offer);
    relay_ = offer.empty() ? Relay::CallerNoOffer : Relay::CallerOffer;
    waiting_.emplace(std::move(request));
    waiting_method_ = method;
    if (method == sip::Method::Update)
      mixer_->update(offer);
    else
      mixer_->reinvite(offer);
    return;
  }
  if (offer.empty()) {  // the mixer never sends these; nothing sensible to relay
    request.respond(488, "Not Acceptable Here", {{"Warning", "399 confab-conference \"offerless re-INVITE\""}});
    return;
  }
  relay_ = Relay::MixerOffer;
  waiting_.emplace(std::move(request));
  waiting_method_ = method;
  if (method == sip::Method::Update)
    caller_->update(offer);
  else
    caller_->reinvite(offer);
}

void Participant::on_ack(sip::Call& call, const sip::Message& ack) {
  if (&call != caller_.get() || relay_ != Relay::CallerNoOffer) return;
  relay_ = Relay::None;
  std::string answer(ack.body());
  if (answer.empty()) {
    log_.warn("participant {}: no answer in the ACK; ending the call", id_);
    mixer_->ack();
    hangup();
    return;
  }
  note_caller_sdp(answer);
  mixer_->ack(answer);
  set_connected();
}

void Participant::on_info(sip::Call& call, sip::IncomingRequest request) {
  // Participants do not drive the mixer: only the server's own INFOs do.
  if (request.message().content_type() == mixer::kControlContentType)
    request.respond(403, "Forbidden");
  else
    request.respond(200, "OK");
}

void Participant::on_refer(sip::Call& call, sip::IncomingRequest request) {
  if (&call == caller_.get())
    observer_.on_refer(*this, std::move(request));
  else
    request.respond(403, "Forbidden");
}

void Participant::on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message& response) {
  if (status < 200) return;
  if (method == sip::Method::Info && &call == mixer_.get() && !controls_.empty()) {
    Done done = std::move(controls_.front());
    controls_.pop_front();
    if (done) done(status < 300, status, std::string(response.reason()));
    return;
  }
  if (method != sip::Method::Update || waiting_method_ != sip::Method::Update) return;
  bool for_caller = &call == mixer_.get() && relay_ == Relay::CallerOffer;
  bool for_mixer = &call == caller_.get() && relay_ == Relay::MixerOffer;
  if (!for_caller && !for_mixer) return;
  std::string body(response.body());
  if (status < 300) (for_caller ? mixer_sdp_ : caller_sdp_) = body;
  answer_caller(status < 300 ? 200 : status, status < 300 ? "OK" : response.reason(), &response, body);
}

void Participant::on_terminated(sip::Call& call, int status, std::string_view reason) {
  for (auto it = replaced_.begin(); it != replaced_.end(); ++it)
    if (it->get() == &call) {
      replaced_.erase(it);
      return;
    }
  if (end_status_ == 0) {
    end_status_ = status;
    end_reason_ = std::string(reason);
  }
  if (!leaving_) {
    leaving_ = true;
    observer_.on_leaving(*this);
  }
  // A request kept for the other leg's answer dies with its own dialog.
  if (&call == caller_.get()) {
    if (waiting_ && relay_ == Relay::MixerOffer) answer_caller(481, "Call/Transaction Does Not Exist", nullptr, {});
    waiting_.reset();
    if (mixer_ && !mixer_->terminated()) mixer_->hangup();
  } else if (&call == mixer_.get()) {
    if (waiting_ && relay_ != Relay::MixerOffer) answer_caller(status >= 300 ? status : 503, "Mixer Leg Ended", nullptr, {});
    waiting_.reset();
    relay_ = Relay::None;
    if (caller_ && !caller_->terminated()) caller_->hangup();
  }
  end_if_done();
}

void Participant::end_if_done() {
  if (ended_) return;
  if (caller_ && !caller_->terminated()) return;
  if (mixer_ && !mixer_->terminated()) return;
  ended_ = true;
  observer_.on_ended(*this, end_status_, end_reason_);
}

void Participant::hangup() {
  if (caller_ && !caller_->terminated()) caller_->hangup();
  if (mixer_ && !mixer_->terminated()) mixer_->hangup();
  if (!caller_ && !mixer_) end_if_done();
}

bool Participant::has_dialog(const sip::ReplacesHeader& r) const {
  return caller_ && !caller_->terminated() && caller_->call_id() == r.call_id && caller_->local_tag() == r.to_tag &&
         caller_->remote_tag() == r.from_tag;
}

bool Participant::replace_caller(std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite) {
  if (relay_ != Relay::None || waiting_ || !mixer_ || !mixer_->established()) {
    invite.respond(491, "Request Pending");
    return false;
  }
  auto old = caller_;
  caller_ = std::move(caller);
  caller_->set_handler(this);
  log_.add_call_id(caller_->call_id());
  const sip::Message& m = invite.message();
  auto contacts = m.contacts();
  if (!contacts.empty()) contact_ = contacts.front().uri;
  std::string offer(m.body());
  if (!offer.empty() && !sip::same_audio_address(offer, caller_sdp_)) {
    // The device moved its media too: the mixer leg learns the new address.
    note_caller_sdp(offer);
    relay_ = Relay::CallerOffer;
    waiting_.emplace(std::move(invite));
    waiting_method_ = sip::Method::Invite;
    mixer_->reinvite(offer);
  } else {
    // Same media (or no offer): the mixer's description stands as it is.
    if (!offer.empty()) note_caller_sdp(offer);
    invite.respond(200, "OK", {}, kSdp, mixer_sdp_);
  }
  if (old) {
    replaced_.push_back(old);
    old->hangup();  // RFC 3891: the replaced dialog ends with a BYE
  }
  return true;
}

void Participant::send_control(const std::string& json, Done done) {
  if (!mixer_ || !mixer_->established()) {
    if (done) done(false, 481, "No Mixer Leg");
    return;
  }
  controls_.push_back(std::move(done));
  mixer_->info(mixer::kControlContentType, json);
}

void Participant::move_to(const std::string& conference, Done done) {
  std::string json = boost::json::serialize(boost::json::object{{"action", "move"}, {"mix", conference}});
  send_control(json, [this, conference, done = std::move(done)](bool ok, int status, const std::string& reason) {
    if (ok) conference_ = conference;
    if (done) done(ok, status, reason);
  });
}

void Participant::set_muted(bool muted, Done done) {
  std::string json = boost::json::serialize(boost::json::object{{"action", "mute"}, {"muted", muted}});
  send_control(json, [this, muted, done = std::move(done)](bool ok, int status, const std::string& reason) {
    if (ok && muted_ != muted) {
      muted_ = muted;
      observer_.on_changed(*this);
    }
    if (done) done(ok, status, reason);
  });
}

void Participant::listen(const std::string& conference, std::optional<double> db, Done done) {
  boost::json::object control{{"action", db ? "listen" : "unlisten"}, {"mix", conference}};
  if (db) control["db"] = *db;
  send_control(boost::json::serialize(control),
               [this, conference, db, done = std::move(done)](bool ok, int status, const std::string& reason) {
                 if (ok && db)
                   listening_[conference] = *db;
                 else if (ok)
                   listening_.erase(conference);
                 if (done) done(ok, status, reason);
               });
}

}  // namespace confab::conference
