#include "conference/conference_server.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>

#include "conference/admin_api.h"
#include "base/log_context.h"
#include "conference_events/conference_info.h"
#include "http/http_server.h"
#include "mixer/mix_engine.h"  // the mixer's gain range
#include "sip/sdp.h"
#include "sip/uri.h"

namespace confab::conference {

namespace {

constexpr const char* kSipfrag = "message/sipfrag;version=2.0";

// Admin API errors (lower-case sentences, as the HTTP layer's own).
constexpr const char* kNoSuchParticipant = "no such participant";
constexpr const char* kBadConferenceId = "bad conference id: 1 to 64 letters, digits and - _ . ~ +";
constexpr const char* kNotConnected = "participant not connected (yet)";

// Conference ids end up in URIs, XML, JSON and the mixer's mix names: a safe alphabet.
bool valid_conference_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+';
         });
}

// The URI inside a name-addr ("Bob <sip:bob@h>" -> "sip:bob@h"), or the text itself.
std::string addr_spec(std::string_view v) {
  auto lt = v.find('<');
  if (lt != std::string_view::npos) {
    auto gt = v.find('>', lt);
    if (gt != std::string_view::npos) return std::string(v.substr(lt + 1, gt - lt - 1));
  }
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return std::string(v);
}

bool accepts_conference_info(const sip::Message& subscribe) {
  auto accept = subscribe.header_values("Accept");
  if (accept.empty()) return true;  // RFC 4575: the package's default type then
  for (auto& a : accept) {
    std::string t = a.substr(0, a.find(';'));
    t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
    if (strcasecmp(t.c_str(), conference_events::kContentType) == 0 || t == "*/*" || t == "application/*") return true;
  }
  return false;
}

}  // namespace

ConferenceServer::ConferenceServer(sip::EventLoop& loop, ConferenceConfig config)
    : loop_(loop), config_(std::move(config)), reaper_(loop) {
  if (config_.listen.empty()) throw std::runtime_error("no listen address given");
  if (!config_.outbound_proxy.empty() && !sip::is_sip_uri(config_.outbound_proxy))
    throw std::runtime_error("the outbound proxy '" + config_.outbound_proxy + "' is not a sip: or sips: URI");
  sip::UserAgentOptions ua;
  ua.listen = config_.listen;
  ua.identity = "sip:conference@" + sip::host_port(config_.listen.front().host,
                                                   std::to_string(config_.listen.front().port));
  ua.user_agent = "confab-conference";
  ua.allow_events = {"conference"};
  ua.transaction_timeout_ms = config_.transaction_timeout_ms;
  if (!sip::Uri::parse(config_.mixer))
    throw std::runtime_error("the mixer '" + config_.mixer + "' is not a SIP URI (e.g. sip:127.0.0.1:5090)");
  ua_ = std::make_unique<sip::UserAgent>(loop, ua, *this);
  if (!config_.admin_host.empty()) admin_ = start_admin_api(*this);
  check_mixer();
}

void ConferenceServer::check_mixer() {
  sip::RequestSpec options;
  options.method = "OPTIONS";
  options.request_uri = config_.mixer;
  ua_->send_request(options, [mixer = config_.mixer](int status, std::string_view phrase, const sip::Message& response) {
    if (status < 200) return;
    // A response from the mixer, whatever its status, means it is there; one the
    // stack made up (a timeout, an unreachable port) means it is not.
    if (response && !response.is_local()) {
      spdlog::info("the mixer at {} answers (OPTIONS: {} {})", mixer, status, phrase);
      return;
    }
    spdlog::warn("the mixer at {} does not answer (OPTIONS: {} {}): every call to a conference will get "
                 "503 until it does. Start it (confab mixer --listen HOST:PORT) or point --mixer (mixer in "
                 "[conference]) at the one that runs, and check that no firewall drops SIP between the two",
                 mixer, status, phrase);
  });
}

ConferenceServer::~ConferenceServer() {
  if (admin_) admin_->stop();
  shutdown();
}

void ConferenceServer::shutdown() {
  for (auto& [id, room] : rooms_) room->close();
  if (ua_) ua_->shutdown();
}

// ---- addressing and admission ----

ConferenceServer::Target ConferenceServer::conference_of(const sip::Message& request) const {
  Target t;
  auto uri = sip::Uri::parse(request.request_uri());
  if (!uri) return {"", 400, "Bad Request-URI"};
  if (!config_.domains.empty() && uri->host() != ua_->host() &&
      std::find(config_.domains.begin(), config_.domains.end(), uri->host()) == config_.domains.end())
    return {"", 404, "Domain Not Served Here"};
  t.id = uri->user_unescaped();  // RFC 3261 19.1.4: "%72oom" is "room"
  if (t.id.empty()) return {"", 404, "No Conference Id (call sip:<id>@this-server)"};
  if (t.id.size() > 64) return {"", 400, "Conference Id Too Long (at most 64)"};
  // A well-formed URI naming an id no conference can have: not found, and why.
  if (!valid_conference_id(t.id)) return {"", 404, "No Such Conference (ids are letters, digits, - _ . ~ +)"};
  return t;
}

std::string ConferenceServer::conference_uri(const std::string& id) const {
  std::string host = config_.domains.empty() ? sip::host_port(ua_->host(), std::to_string(ua_->port()))
                                             : config_.domains.front();
  return "sip:" + id + "@" + host;
}

ConferenceRoom* ConferenceServer::room(const std::string& id) {
  auto it = rooms_.find(id);
  return it == rooms_.end() ? nullptr : it->second.get();
}

ConferenceRoom* ConferenceServer::admit(const std::string& id, int* status, std::string* reason) {
  if (ConferenceRoom* r = room(id)) {
    if (headcount_[id] >= config_.max_participants) {
      *status = 486;
      *reason = "Conference Full";
      return nullptr;
    }
    return r;
  }
  if (rooms_.size() >= config_.max_conferences) {
    *status = 503;
    *reason = "Too Many Conferences";
    return nullptr;
  }
  spdlog::info("conference {} created", id);
  ++counters_.conferences_created;
  auto& r = rooms_[id];
  r = std::make_unique<ConferenceRoom>(loop_, id, conference_uri(id),
                                       std::chrono::milliseconds(config_.notify_interval_ms));
  return r.get();
}

Participant& ConferenceServer::new_participant(const std::string& conference) {
  std::string id = "p" + std::to_string(next_participant_++);
  auto& p = participants_[id];
  p = std::make_unique<Participant>(*ua_, *this, id, conference, config_.mixer);
  ++headcount_[conference];
  return *p;
}

Participant* ConferenceServer::participant(const std::string& id) {
  auto it = participants_.find(id);
  return it == participants_.end() ? nullptr : it->second.get();
}

Participant* ConferenceServer::participant_by_dialog(const sip::ReplacesHeader& r) {
  for (auto& [id, p] : participants_)
    if (p->has_dialog(r)) return p.get();
  return nullptr;
}

void ConferenceServer::close_if_empty(const std::string& id) {
  auto it = headcount_.find(id);
  if (it != headcount_.end() && it->second > 0) return;
  headcount_.erase(id);
  auto r = rooms_.find(id);
  if (r == rooms_.end()) return;
  r->second->close();
  counters_.notifies_of_closed += r->second->notifies_sent();
  rooms_.erase(r);
  spdlog::info("conference {} ended", id);
}

// ---- SIP requests ----

void ConferenceServer::on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) {
  const sip::Message& msg = invite.message();
  Target t = conference_of(msg);
  if (t.status) {
    base::CallLog(msg.call_id()).warn("INVITE {} from {}: {} {}", msg.request_uri(), msg.from_uri(), t.status, t.reason);
    invite.respond(t.status, t.reason);
    return;
  }
  if (!sip::accepts_sdp(msg.header_values("Accept"))) {  // the mixer's answer is SDP
    invite.respond(406, "Not Acceptable", {{"Accept", "application/sdp"}});
    return;
  }
  if (auto header = msg.header("Replaces")) {
    auto replaces = sip::ReplacesHeader::parse(*header);
    Participant* p = replaces ? participant_by_dialog(*replaces) : nullptr;
    if (!replaces) {
      invite.respond(400, "Bad Replaces Header");
    } else if (!p) {  // RFC 3891 section 3: no such dialog
      base::CallLog(msg.call_id()).warn("INVITE with Replaces from {}: no dialog {}", msg.from_uri(), *header);
      invite.respond(481, "Call/Transaction Does Not Exist");
    } else if (replaces->early_only && p->connected()) {
      invite.respond(486, "Busy Here");
    } else {
      join_replacing(*p, call, std::move(invite), t.id);
    }
    return;
  }
  int status = 0;
  std::string reason;
  if (!admit(t.id, &status, &reason)) {
    base::CallLog(msg.call_id()).warn("conference {}: {} refused: {} {}", t.id, msg.from_uri(), status, reason);
    invite.respond(status, reason);
    return;
  }
  Participant& p = new_participant(t.id);
  base::CallLog(msg.call_id()).info("conference {}: {} joining as {}", t.id, msg.from_uri(), p.id());
  p.dial_in(call, std::move(invite));
}

void ConferenceServer::join_replacing(Participant& p, const std::shared_ptr<sip::Call>& call,
                                      sip::IncomingRequest invite, const std::string& to) {
  std::string from = p.conference();
  if (to != from) {
    int status = 0;
    std::string reason;
    if (!admit(to, &status, &reason)) {
      invite.respond(status, reason);
      return;
    }
  }
  // The new dialog takes over at once (the mixer leg, and so the media, stays);
  // then the mixer moves the leg to the new mix at its next 20 ms tick.
  if (!p.replace_caller(call, std::move(invite))) {
    close_if_empty(to);
    return;
  }
  p.log().info("participant {}: dialog replaced ({} -> {})", p.id(), from, to);
  if (to != from)
    move_between_rooms(p, to, [log = p.log(), pid = p.id()](int status, const std::string& reason) {
      if (status >= 300) log.error("participant {}: move after Replaces failed: {} {}", pid, status, reason);
    });
}

void ConferenceServer::move_between_rooms(Participant& p, const std::string& to, Reply done) {
  std::string pid = p.id(), from = p.conference();
  p.move_to(to, [this, pid, from, to, done = std::move(done)](bool ok, int status, const std::string&) {
    Participant* moved = participant(pid);
    if (!moved) return;
    if (!ok) {
      moved->log().error("participant {}: the mixer refused the move to {} ({}); hanging up", pid, to, status);
      moved->hangup();
      close_if_empty(to);
      done(502, "the mixer refused the move");
      return;
    }
    if (ConferenceRoom* r = room(from)) r->remove(*moved);
    --headcount_[from];
    ++headcount_[to];
    if (ConferenceRoom* r = room(to); r && moved->connected() && !moved->leaving()) r->add(*moved);
    moved->log().info("participant {}: moved from {} to {}", pid, from, to);
    close_if_empty(from);
    done(200, "OK");
  });
}

void ConferenceServer::on_subscribe(const std::shared_ptr<sip::Notifier>& subscription) {
  const sip::Message& msg = subscription->request();
  if (subscription->event() != "conference") {
    subscription->reject(489, "Bad Event");
    return;
  }
  Target t = conference_of(msg);
  ConferenceRoom* r = t.status ? nullptr : room(t.id);
  if (t.status) {
    subscription->reject(t.status, t.reason);
  } else if (!r) {
    subscription->reject(404, "No Such Conference");
  } else if (!accepts_conference_info(msg)) {
    subscription->reject(406, "Not Acceptable");
  } else if (r->subscribers() >= config_.max_subscribers) {
    base::CallLog(msg.call_id())
        .warn("conference {}: SUBSCRIBE from {} refused: {} subscribers already", t.id, msg.from_uri(),
              r->subscribers());
    subscription->reject(503, "Too Many Subscribers");
  } else {
    subscription->accept(config_.max_subscription_expires);
    r->subscribe(subscription);
  }
}

void ConferenceServer::on_refer(const std::shared_ptr<sip::Notifier>& refer) {
  Target t = conference_of(refer->request());
  if (t.status) {
    refer->reject(t.status, t.reason);
    return;
  }
  std::weak_ptr<sip::Notifier> weak = refer;
  auto progress = [weak](int status, const std::string& reason, bool final) {
    auto n = weak.lock();
    if (!n) return;
    std::string frag = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
    if (final)
      n->terminate(kSipfrag, frag);
    else
      n->notify(kSipfrag, frag);
  };
  ReferOutcome outcome = handle_refer(t.id, refer->request(), progress);
  if (outcome.status >= 300) {
    refer->reject(outcome.status, outcome.reason);
    return;
  }
  refer->accept();
  if (outcome.done) progress(200, "OK", true);
}

void ConferenceServer::on_refer(Participant& p, sip::IncomingRequest request) {
  std::string pid = p.id();
  uint32_t refer_cseq = request.message().cseq();
  auto progress = [this, pid, refer_cseq](int status, const std::string& reason, bool final) {
    Participant* referrer = participant(pid);
    if (referrer && referrer->caller()) referrer->caller()->notify_refer(refer_cseq, status, reason, final);
  };
  ReferOutcome outcome = handle_refer(p.conference(), request.message(), progress);
  request.respond(outcome.status, outcome.reason);
  if (outcome.status < 300) progress(outcome.done ? 200 : 100, outcome.done ? "OK" : "Trying", outcome.done);
}

ConferenceServer::ReferOutcome ConferenceServer::handle_refer(const std::string& conference, const sip::Message& refer,
                                                              Progress progress) {
  auto refer_to = refer.header("Refer-To");
  if (!refer_to) return {400, "Missing Refer-To"};
  std::string target = addr_spec(*refer_to);
  auto uri = sip::Uri::parse(target);
  if (!uri || (uri->scheme() != "sip" && uri->scheme() != "sips")) return {400, "Bad Refer-To"};
  auto method = uri->param("method");
  uri->remove_param("method");
  uri->set_headers("");
  if (method && strcasecmp(method->c_str(), "BYE") == 0) {
    // RFC 4579 section 5.5: remove the participant the Refer-To names.
    ConferenceRoom* r = room(conference);
    if (!r) return {404, "No Such Conference"};
    for (auto& [id, p] : r->participants()) {
      auto user = sip::Uri::parse(p->uri()), contact = sip::Uri::parse(p->contact());
      if ((user && user->equivalent(*uri)) || (contact && contact->equivalent(*uri))) {
        p->log().info("conference {}: {} ({}) removed by {} (REFER with method=BYE)", conference, p->uri(), id,
                      refer.from_uri());
        p->hangup();
        return {202, "Accepted", true};
      }
    }
    return {404, "Not A Participant"};
  }
  if (method && strcasecmp(method->c_str(), "INVITE") != 0) return {400, "Unsupported Method In Refer-To"};
  // Adding someone to a conference that does not exist yet creates it, as an INVITE to it does (ad hoc).
  int status = 0;
  std::string reason;
  ConferenceRoom* r = admit(conference, &status, &reason);
  if (!r) return {status, reason};
  Participant& p = new_participant(conference);
  auto referred_by = refer.header("Referred-By");
  std::vector<sip::HeaderField> headers{{"Referred-By", referred_by ? *referred_by : "<" + refer.from_uri() + ">"}};
  if (!p.dial_out(uri->str(), conference_uri(conference), headers, config_.outbound_proxy)) {
    --headcount_[conference];
    participants_.erase(p.id());
    return {500, "Cannot Dial Out"};
  }
  // The dial-out's Call-ID is known from its first response: the REFER's is the one to follow until then.
  base::CallLog(refer.call_id())
      .info("conference {}: {} dialling out to {} for {}{}", conference, p.id(), uri->str(), refer.from_uri(),
            config_.outbound_proxy.empty() ? "" : " (through " + config_.outbound_proxy + ")");
  dial_progress_[p.id()] = std::move(progress);
  r->add(p);
  return {202, "Accepted"};
}

// ---- participants ----

void ConferenceServer::on_connected(Participant& p) {
  p.log().info("conference {}: {} ({}) joined", p.conference(), p.uri(), p.id());
  if (p.leaving()) return;
  ++counters_.joined;
  if (ConferenceRoom* r = room(p.conference())) r->add(p);
}

void ConferenceServer::on_changed(Participant& p) {
  if (ConferenceRoom* r = room(p.conference())) r->changed(p);
}

void ConferenceServer::on_dial_progress(Participant& p, int status, std::string_view reason) {
  auto it = dial_progress_.find(p.id());
  if (it == dial_progress_.end() || status <= 100) return;
  Progress progress = it->second;
  if (status >= 200) dial_progress_.erase(it);
  progress(status, std::string(reason), status >= 200);
}

void ConferenceServer::on_leaving(Participant& p) {
  if (ConferenceRoom* r = room(p.conference())) r->remove(p);
}

void ConferenceServer::on_ended(Participant& p, int status, std::string_view reason) {
  p.log().info("conference {}: {} ({}) left ({} {})", p.conference(), p.uri(), p.id(), status, reason);
  ++counters_.left;
  if (auto it = dial_progress_.find(p.id()); it != dial_progress_.end()) {
    auto progress = it->second;
    dial_progress_.erase(it);
    progress(status >= 300 ? status : 487, status >= 300 ? std::string(reason) : "Request Terminated", true);
  }
  std::string conference = p.conference();
  if (ConferenceRoom* r = room(conference)) r->remove(p);
  if (auto it = headcount_.find(conference); it != headcount_.end() && it->second > 0) --it->second;
  auto it = participants_.find(p.id());
  if (it != participants_.end()) {
    ended_.push_back(std::move(it->second));  // we are inside its callback: free it a moment later
    participants_.erase(it);
    reaper_.once(std::chrono::milliseconds(0), [this] { ended_.clear(); });
  }
  close_if_empty(conference);
}

// ---- admin operations ----

void ConferenceServer::move_participant(const std::string& pid, const std::string& to, Reply done) {
  Participant* p = participant(pid);
  if (!p) return done(404, kNoSuchParticipant);
  if (!valid_conference_id(to)) return done(400, kBadConferenceId);
  if (!p->connected()) return done(409, kNotConnected);
  if (p->conference() == to) return done(200, "OK");
  int status = 0;
  std::string reason;
  if (!admit(to, &status, &reason))
    return done(status, status == 486 ? "conference " + to + " is full (max_participants)"
                                      : "too many conferences (max_conferences)");
  move_between_rooms(*p, to, std::move(done));
}

void ConferenceServer::mute_participant(const std::string& pid, bool muted, Reply done) {
  Participant* p = participant(pid);
  if (!p) return done(404, kNoSuchParticipant);
  p->set_muted(muted, [done = std::move(done)](bool ok, int status, const std::string& why) {
    done(ok ? 200 : 502, ok ? "OK" : "the mixer refused: " + std::to_string(status) + " " + why);
  });
}

void ConferenceServer::listen_participant(const std::string& pid, const std::string& conference,
                                          std::optional<double> db, Reply done) {
  Participant* p = participant(pid);
  if (!p) return done(404, kNoSuchParticipant);
  if (!valid_conference_id(conference)) return done(400, kBadConferenceId);
  if (db && !(*db >= mixer::MixEngine::kMinGainDb && *db <= mixer::MixEngine::kMaxGainDb))
    return done(400, "db must be -60 to +12, or null to stop listening");
  if (!p->connected() || p->leaving()) return done(409, kNotConnected);
  if (db && conference == p->conference()) return done(400, "a participant hears its own conference already");
  bool linked = p->listening().contains(conference);
  auto answered = [pid, log = p->log(), conference, db, linked, done = std::move(done)](bool ok, int status,
                                                                                      const std::string& why) {
    if (!ok) {
      log.warn("participant {}: the mixer refused to {} {}: {} {}", pid, db ? "listen to" : "stop listening to",
                   conference, status, why);
      return done(502, "the mixer refused: " + why);
    }
    // A new or ended link is logged; gain changes (a game: many a second) only at debug level.
    auto level = db.has_value() == linked ? spdlog::level::debug : spdlog::level::info;
    if (db)
      log.log(level, "participant {}: listens to conference {} at {} dB", pid, conference, *db);
    else if (linked)
      log.log(level, "participant {}: no longer listens to conference {}", pid, conference);
    done(200, "OK");
  };
  p->listen(conference, db, std::move(answered));
}

}  // namespace confab::conference
