#include "phone/phone.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "media/sdp_terms.h"
#include "sip/registration_status.h"
#include "phone/uri_headers.h"

namespace confab::phone {

namespace {

constexpr const char* kSdp = "application/sdp";

}  // namespace

Phone::Phone(sip::EventLoop& loop, PhoneConfig config, Emit emit)
    : loop_(loop), config_(std::move(config)), emit_(std::move(emit)), ports_(config_.rtp_low, config_.rtp_high),
      media_(config_.source, config_.record_file) {
  sip::UserAgentOptions ua;
  ua.listen = config_.listen;
  ua.user_agent = "confab-phone";
  ua.proxy = config_.proxy;
  ua.identity = !config_.identity.empty() ? config_.identity : config_.register_aor;
  if (!config_.user.empty()) ua.credentials.push_back({config_.user, config_.password, ""});
  ua_ = std::make_unique<sip::UserAgent>(loop, ua, *this);
  media_.start();
  if (!config_.register_aor.empty() && !config_.proxy.empty())
    registration_ = ua_->register_at(config_.register_aor, config_.proxy, config_.register_expires, this);
  event("ready", {{"contact", ua_->contact()}, {"epoch_ms", std::to_string(media_.epoch_ms())}});
  if (!config_.dial.empty()) dial(config_.dial);
  if (!config_.subscribe.empty()) command("subscribe " + config_.subscribe);
}

Phone::~Phone() { shutdown(); }

void Phone::shutdown() {
  subscription_.reset();
  registration_.reset();
  if (ua_) ua_->shutdown();
  media_.set_stream(nullptr);
  media_.stop();
}

void Phone::event(const std::string& name, const std::vector<std::pair<std::string, std::string>>& fields) {
  // t_ms: the time on the recording's axis, so tests can line events up with the audio.
  std::string line = "event=" + name + " t_ms=" + std::to_string(media_.elapsed_ms());
  for (auto& [k, v] : fields) line += " " + k + "=" + (v.find(' ') != std::string::npos ? "\"" + v + "\"" : v);
  emit_(line);
}

std::vector<sip::SdpFormat> Phone::formats() const {
  std::vector<sip::SdpFormat> all = {{0, "PCMU", 8000, 1, ""},
                                     {8, "PCMA", 8000, 1, ""},
                                     {9, "G722", 8000, 1, ""},
                                     {111, "opus", 48000, 2, "useinbandfec=1"}};
  std::vector<sip::SdpFormat> out;
  for (auto& f : all) {
    std::string lower = f.encoding;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (config_.codec.empty() || config_.codec == lower) out.push_back(f);
  }
  out.push_back({101, "telephone-event", 8000, 1, "0-15"});
  return out;
}

Phone::CallState* Phone::state_of(sip::Call& call) {
  auto it = calls_.find(call.id());
  return it == calls_.end() ? nullptr : &it->second;
}

Phone::CallState* Phone::current() {
  auto it = calls_.find(current_);
  return it == calls_.end() ? nullptr : &it->second;
}

bool Phone::new_stream(CallState& cs) {
  auto pair = ports_.allocate(config_.rtp_host, 256 * 1024);
  if (!pair) return false;
  cs.port = pair->rtp.local_port();
  cs.stream = std::make_shared<media::AudioStream>(std::move(pair->rtp), std::move(pair->rtcp));
  cs.stream->on_digit = [this](char d) { loop_.post([this, d] { event("digit", {{"digit", std::string(1, d)}}); }); };
  return true;
}

std::string Phone::offer_text(CallState& cs, sip::Direction direction) {
  auto offer = sip::make_audio_offer(formats(), sdp_address(), cs.port, direction);
  return answer_text(cs, std::move(offer));
}

std::string Phone::answer_text(CallState& cs, sip::SessionDescription sdp) {
  return cs.origin.stamp(std::move(sdp), "confab-phone");
}

bool Phone::apply(CallState& cs, const sip::AudioTerms& terms) {
  auto st = media::stream_terms(terms);
  if (!st) return false;
  cs.stream->set_terms(*st);
  event("media", {{"call", cs.call->id()}, {"codec", terms.codec.encoding},
                  {"direction", std::string(sip::direction_name(terms.direction))},
                  {"remote", terms.remote_address + ":" + std::to_string(terms.remote_port)}});
  return true;
}

void Phone::make_current(CallState& cs) {
  current_ = cs.call->id();
  media_.set_stream(cs.stream);
}

void Phone::answer_request(CallState& cs, sip::IncomingRequest request) {
  std::string_view body = request.message().body();
  if (body.empty()) {
    // Third-party call control: no offer here, so we offer and the ACK answers.
    std::string text = offer_text(cs, cs.held ? sip::Direction::Inactive : sip::Direction::SendRecv);
    cs.our_offer = sip::SessionDescription::parse(text);
    request.respond(200, "OK", {}, kSdp, text);
    return;
  }
  std::string error;
  auto offer = sip::SessionDescription::parse(body, &error);
  std::optional<sip::Answer> answer;
  if (offer) answer = sip::answer_offer(*offer, formats(), sdp_address(), cs.port, sip::Direction::SendRecv, &error);
  if (!answer || !apply(cs, answer->terms)) {
    event("rejected", {{"call", cs.call->id()}, {"reason", error.empty() ? "unusable offer" : error}});
    request.respond(488, "Not Acceptable Here", {{"Warning", "305 confab-phone \"" + error + "\""}});
    return;
  }
  request.respond(200, "OK", {}, kSdp, answer_text(cs, answer->sdp));
  make_current(cs);
}

void Phone::on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) {
  call->set_handler(this);
  CallState& cs = calls_[call->id()];
  cs.call = call;
  event("incoming", {{"call", call->id()}, {"from", invite.message().from_uri()}});
  if (!new_stream(cs)) {
    invite.respond(503, "Service Unavailable");
    return;
  }
  if (config_.auto_answer) {
    answer_request(cs, std::move(invite));
    return;
  }
  invite.respond(180, "Ringing");
  cs.ringing.emplace(std::move(invite));
}

void Phone::dial(const std::string& target_text, const std::vector<sip::HeaderField>& extra,
                 std::optional<Referral> referral, CallState* media_of) {
  auto split = split_uri_headers(target_text);
  if (!split) {
    event("error", {{"reason", "malformed %-escape in " + target_text}});
    return;
  }
  std::string target = split->uri;
  std::vector<sip::HeaderField> headers = std::move(split->headers);
  for (auto& h : extra) headers.push_back(h);
  CallState cs;
  if (media_of) {  // the new call carries on the old one's media: same port, same stream
    cs.port = media_of->port;
    cs.stream = media_of->stream;
    cs.origin = media_of->origin;
  } else if (!new_stream(cs)) {
    event("error", {{"reason", "no RTP port"}});
    return;
  }
  std::string offer = offer_text(cs, sip::Direction::SendRecv);
  sip::CallOptions opts;
  opts.headers = headers;
  auto call = ua_->invite(target, offer, *this, opts);
  if (!call) {
    event("error", {{"reason", "cannot call " + target}});
    return;
  }
  cs.call = call;
  cs.our_offer = sip::SessionDescription::parse(offer);
  cs.referral = std::move(referral);
  event("dialing", {{"call", call->id()}, {"to", target}});
  calls_[call->id()] = std::move(cs);
}

void Phone::on_invite_response(sip::Call& call, int status, const sip::Message& response) {
  CallState* cs = state_of(call);
  if (!cs) return;
  if (status < 200) {
    if (status > 100) event("progress", {{"call", call.id()}, {"status", std::to_string(status)}});
  } else if (status < 300) {
    auto answer = sip::SessionDescription::parse(response.body());
    std::optional<sip::AudioTerms> terms;
    if (answer && cs->our_offer) terms = sip::accept_answer(*cs->our_offer, *answer);
    if (!terms || !apply(*cs, *terms)) {
      event("error", {{"call", call.id()}, {"reason", "unusable answer"}});
      call.hangup();
      return;
    }
    cs->our_offer.reset();
    event("answered", {{"call", call.id()}});
    make_current(*cs);
  }
  if (cs->referral) {
    // Tell the transferor how its REFER went (RFC 3515 section 2.4.5).
    auto it = calls_.find(cs->referral->call);
    if (it != calls_.end() && status > 100) {
      it->second.call->notify_refer(cs->referral->refer_cseq, status, response.reason(), status >= 200);
      if (status >= 200 && status < 300) it->second.call->hangup();
    }
  }
}

void Phone::on_reinvite(sip::Call& call, sip::IncomingRequest request) {
  CallState* cs = state_of(call);
  if (!cs) {
    request.respond(481, "Call/Transaction Does Not Exist");
    return;
  }
  event("reinvite", {{"call", call.id()}});
  answer_request(*cs, std::move(request));
}

void Phone::on_ack(sip::Call& call, const sip::Message& ack) {
  CallState* cs = state_of(call);
  if (!cs || !cs->our_offer) return;
  auto answer = sip::SessionDescription::parse(ack.body());
  std::optional<sip::AudioTerms> terms;
  if (answer) terms = sip::accept_answer(*cs->our_offer, *answer);
  cs->our_offer.reset();
  if (!terms || !apply(*cs, *terms)) {
    event("error", {{"call", call.id()}, {"reason", "no usable answer in the ACK"}});
    call.hangup();
    return;
  }
  make_current(*cs);
}

void Phone::on_refer(sip::Call& call, sip::IncomingRequest request) {
  auto target = request.message().header("Refer-To");
  if (!target || target->empty()) {
    request.respond(400, "Missing Refer-To");
    return;
  }
  std::string uri = *target;
  if (uri.front() == '<') uri = uri.substr(1, uri.find('>') - 1);
  if (!split_uri_headers(uri)) {
    event("error", {{"call", call.id()}, {"reason", "malformed %-escape in Refer-To " + uri}});
    request.respond(400, "Bad Refer-To");
    return;
  }
  event("refer", {{"call", call.id()}, {"to", uri}});
  uint32_t refer_cseq = request.message().cseq();
  request.respond(202, "Accepted");
  call.notify_refer(refer_cseq, 100, "Trying", false);
  std::vector<sip::HeaderField> headers;
  headers.push_back({"Referred-By", "<" + call.remote_uri() + ">"});
  dial(uri, headers, Referral{call.id(), refer_cseq});
}

void Phone::on_request_response(sip::Call& call, sip::Method method, int status, const sip::Message&) {
  if (method == sip::Method::Info)
    event("info-response", {{"call", call.id()}, {"status", std::to_string(status)}});
}

void Phone::on_notify(sip::Call& call, const sip::Message& notify) {
  event("notify", {{"call", call.id()}, {"body", std::string(notify.body().substr(0, notify.body().find('\r')))}});
}

void Phone::on_terminated(sip::Call& call, int status, std::string_view reason) {
  event("terminated", {{"call", call.id()}, {"status", std::to_string(status)}, {"reason", std::string(reason)}});
  if (current_ == call.id()) {
    current_.clear();
    media_.set_stream(nullptr);
    // Another established call (e.g. the one a transfer made) takes over the media.
    for (auto& [id, cs] : calls_)
      if (id != call.id() && cs.call->established()) make_current(cs);
  }
  calls_.erase(call.id());
}

void Phone::on_registration(int status, std::string_view reason) {
  auto said = sip::describe_registration(status, reason, !config_.user.empty());
  if (said.status != status) spdlog::debug("registration: the SIP stack said {} {}", status, reason);
  event("registration", {{"status", std::to_string(said.status)}, {"reason", said.reason}});
  if (said.ok()) {
    registered_once_ = true;
    return;
  }
  spdlog::error("cannot register {} at {}: {} {}", config_.register_aor, config_.proxy, said.status, said.reason);
  if (registered_once_) return;  // a refresh failed: the registration may come back, the calls go on
  registration_failed_ = true;
  if (config_.stop_if_not_registered) loop_.stop();
}

void Phone::move(const std::string& target) {
  CallState* cs = current();
  if (!cs || !cs->call->established()) {
    event("error", {{"reason", "move needs an established call"}});
    return;
  }
  // RFC 3891: the recipient matches to-tag against its local tag, our remote one.
  sip::ReplacesHeader r{cs->call->call_id(), cs->call->remote_tag(), cs->call->local_tag(), false};
  event("moving", {{"call", cs->call->id()}, {"replaces", r.str()}});
  dial(target, {{"Replaces", r.str()}}, {}, cs);
}

void Phone::on_subscribe_response(sip::Subscriber& sub, int status, std::string_view reason) {
  event("subscription", {{"to", sub.target()}, {"status", std::to_string(status)}, {"reason", std::string(reason)}});
}

void Phone::on_notify(sip::Subscriber& sub, const sip::Message& notify) {
  std::string body(notify.body());
  if (!config_.notify_dir.empty()) {
    std::ofstream(config_.notify_dir + "/notify-" + std::to_string(++notifies_) + ".xml", std::ios::binary) << body;
  }
  if (body.empty()) return;
  std::string error;
  auto info = conference_events::parse(body, &error);
  if (!info) {
    event("roster-error", {{"reason", error}});
    return;
  }
  auto outcome = roster_.apply(*info);
  if (outcome == conference_events::Roster::Outcome::NeedsResync) {
    event("roster-resync", {{"version", std::to_string(info->version)}});
    sub.refresh();
    return;
  }
  if (outcome == conference_events::Roster::Outcome::Ignored) return;
  std::string members;
  for (auto& m : roster_.members())
    members += (members.empty() ? "" : ",") + m.entity +
               (m.status ? ":" + std::string(conference_events::status_name(*m.status)) : "");
  event("roster", {{"conference", roster_.conference()},
                   {"version", std::to_string(roster_.version())},
                   {"state", std::string(conference_events::state_name(info->state))},
                   {"count", std::to_string(roster_.members().size())},
                   {"members", members.empty() ? "-" : members}});
}

void Phone::on_ended(sip::Subscriber& sub, int status, std::string_view why) {
  event("subscription-ended", {{"to", sub.target()}, {"status", std::to_string(status)}, {"reason", std::string(why)}});
}

bool Phone::command(const std::string& line) {
  std::istringstream in(line);
  std::string verb, arg;
  in >> verb >> arg;
  if (verb.empty()) return true;
  CallState* cs = current();
  if (!cs && !calls_.empty()) cs = &calls_.begin()->second;
  if (verb == "dial" && !arg.empty()) {
    dial(arg);
  } else if (verb == "move" && !arg.empty()) {
    move(arg);
  } else if (verb == "subscribe" && !arg.empty()) {
    roster_ = {};
    subscription_ = ua_->subscribe(arg, "conference", 600, *this, conference_events::kContentType);
  } else if (verb == "unsubscribe" && subscription_) {
    subscription_.reset();
  } else if (verb == "answer" && cs && cs->ringing) {
    auto req = std::move(*cs->ringing);
    cs->ringing.reset();
    answer_request(*cs, std::move(req));
  } else if (verb == "hangup" && cs) {
    cs->call->hangup();
  } else if ((verb == "hold" || verb == "unhold") && cs && cs->call->established()) {
    cs->held = verb == "hold";
    std::string offer = offer_text(*cs, cs->held ? sip::Direction::Inactive : sip::Direction::SendRecv);
    cs->our_offer = sip::SessionDescription::parse(offer);
    cs->call->reinvite(offer);
  } else if (verb == "transfer" && !arg.empty() && cs && cs->call->established()) {
    cs->call->refer(arg);
  } else if (verb == "info" && !arg.empty() && cs && cs->call->established()) {
    // "info CONTENT-TYPE BODY...": an INFO in the current call's dialog.
    std::string body;
    std::getline(in, body);
    if (!body.empty() && body.front() == ' ') body.erase(0, 1);
    event("info-sent", {{"call", cs->call->id()}});
    cs->call->info(arg, body);
  } else if (verb == "mute" || verb == "unmute") {
    media_.set_muted(verb == "mute");
  } else if (verb == "status") {  // a health check for whoever drives the phone (the service's softphone device)
    event("status", {{"calls", std::to_string(calls_.size())}});
  } else {
    event("error", {{"reason", "cannot do '" + line + "' now"}});
    return false;
  }
  return true;
}

}  // namespace confab::phone
