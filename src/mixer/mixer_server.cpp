#include "mixer/mixer_server.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "base/host_port.h"
#include "sip/uri.h"

namespace confab::mixer {

namespace {

constexpr const char* kSdp = "application/sdp";

std::string mix_id_of(const sip::Message& invite) {
  auto uri = sip::Uri::parse(invite.request_uri());
  return uri ? uri->user() : std::string();
}

boost::json::array listening_json(const std::vector<ListenInfo>& links) {
  boost::json::array out;
  for (const auto& l : links) out.push_back({{"mix", l.mix}, {"db", l.gain_db}});
  return out;
}

}  // namespace

MixerServer::MixerServer(sip::EventLoop& loop, MixerConfig config)
    : loop_(loop), config_(std::move(config)), ports_(config_.rtp_low, config_.rtp_high),
      engine_({config_.threads, config_.rtp_timeout_ms},
              [this](LegId id, MixEngine::LegEvent ev) { loop_.post([this, id, ev] { on_leg_event(id, ev); }); },
              [this](LegId id, char digit) {
                loop_.post([this, id, digit] {  // from a mixing thread; the legs are the SIP thread's
                  for (auto& [cid, leg] : legs_)
                    if (leg.id == id) leg.log.info("mix {}: leg {}: DTMF digit {}", leg.mix, id, digit);
                });
              }) {
  sip::UserAgentOptions ua;
  ua.listen = config_.listen;
  ua.user_agent = "confab-mixer";
  ua_ = std::make_unique<sip::UserAgent>(loop, ua, *this);
  if (!config_.http_host.empty()) {
    http_ = std::make_unique<http::Server>(config_.http_host, config_.http_port);
    if (!config_.http_token.empty())
      http_->require_token(config_.http_token);
    else
      spdlog::warn("mixer HTTP endpoint on {} without a token: anyone who can reach it can read every mix and leg "
                   "(conference ids, participants' RTP addresses, packet counts) and the metrics; "
                   "set --http-token-file FILE to require \"Authorization: Bearer <its first line>\"",
                   base::HostPort{config_.http_host, http_->port()}.str());
    http_->route("GET", "/mixes", [this](const http::Request&) {
      return http::call_on(loop_, [this] { return http::Response::json(200, mixes_json()); });
    });
    http_->route("GET", "/metrics.json", [this](const http::Request&) {
      auto m = engine_.metrics();
      return http::Response::json(200, boost::json::serialize(boost::json::object{
                                           {"ticks", m.ticks}, {"late_ticks", m.late_ticks}, {"encodes", m.encodes},
                                           {"shared_encodes", m.shared_encodes}, {"legs", m.legs}, {"mixes", m.mixes},
                                           {"busy_us", m.busy_us}, {"max_work_us", m.max_work_us},
                                           {"max_wake_late_us", m.max_wake_late_us}}));
    });
    http::serve_metrics(*http_, loop_, [this](http::MetricsPage& page) { add_metrics(page); });
    http_->start();
  }
}

MixerServer::~MixerServer() {
  if (http_) http_->stop();
  shutdown();
}

void MixerServer::shutdown() {
  if (ua_) ua_->shutdown();
}

std::vector<sip::SdpFormat> MixerServer::supported_formats() const {
  return {{111, "opus", 48000, 2, "useinbandfec=1"},
          {9, "G722", 8000, 1, ""},
          {0, "PCMU", 8000, 1, ""},
          {8, "PCMA", 8000, 1, ""},
          {101, "telephone-event", 8000, 1, "0-15"},
          {110, "telephone-event", 48000, 1, "0-15"}};
}

MixerServer::Leg* MixerServer::leg_of(sip::Call& call) {
  auto it = legs_.find(call.id());
  return it == legs_.end() ? nullptr : &it->second;
}

std::string MixerServer::answer_sdp(Leg& leg, sip::SessionDescription sdp) {
  return leg.origin.stamp(std::move(sdp), "confab-mixer");
}

bool MixerServer::apply(Leg& leg, const sip::AudioTerms& terms, std::string* error) {
  auto st = media::stream_terms(terms, error);
  if (!st) return false;
  st->latch = config_.latch;
  if (leg.id == 0) {
    leg.id = engine_.add_leg(leg.mix, std::move(leg.stream), *st);
    leg.log.info("mix {}: leg {} joined ({} {} -> {})", leg.mix, leg.id, terms.codec.encoding,
                 sip::direction_name(terms.direction), st->remote.str());
  } else {
    engine_.set_terms(leg.id, *st);
  }
  return true;
}

void MixerServer::handle_offer(Leg& leg, sip::IncomingRequest request, bool initial) {
  const sip::Message& msg = request.message();
  if (!sip::accepts_sdp(msg.header_values("Accept"))) {  // our answer is SDP
    request.respond(406, "Not Acceptable", {{"Accept", kSdp}});
    return;
  }
  std::string_view body = msg.body();
  if (body.empty()) {
    // No offer (RFC 3725 flow I, or an offerless re-INVITE): we offer, the ACK answers.
    auto offer = sip::make_audio_offer(supported_formats(), config_.rtp_host, leg.port);
    std::string text = answer_sdp(leg, offer);
    leg.our_offer = sip::SessionDescription::parse(text);
    request.respond(200, "OK", {}, kSdp, text);
    return;
  }
  if (msg.content_type() != kSdp) {
    request.respond(415, "Unsupported Media Type", {{"Accept", kSdp}});
    return;
  }
  std::string error;
  auto offer = sip::SessionDescription::parse(body, &error);
  if (!offer) {
    leg.log.warn("leg {} in mix {}: {}", leg.id, leg.mix, error);
    request.respond(400, "Malformed SDP", {{"Warning", "399 confab-mixer \"" + error + "\""}});
    return;
  }
  if (!offer->ignored.empty()) leg.log.info("leg {} in mix {}: ignored in the offer: {}", leg.id, leg.mix, offer->ignored);
  auto answer = sip::answer_offer(*offer, supported_formats(), config_.rtp_host, leg.port, sip::Direction::SendRecv,
                                  &error);
  if (answer && !apply(leg, answer->terms, &error)) answer.reset();
  if (!answer) {
    leg.log.warn("mix {}: offer not acceptable: {}", leg.mix, error);
    request.respond(488, "Not Acceptable Here", {{"Warning", "305 confab-mixer \"" + error + "\""}});
    return;
  }
  request.respond(200, "OK", {}, kSdp, answer_sdp(leg, answer->sdp));
  (void)initial;
}

void MixerServer::on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) {
  call->set_handler(this);
  std::string mix = mix_id_of(invite.message());
  if (mix.empty()) {
    invite.respond(404, "Not Found", {{"Warning", "399 confab-mixer \"call sip:<mix-id>@this-mixer\""}});
    return;
  }
  auto pair = ports_.allocate(config_.rtp_host, 256 * 1024);
  if (!pair) {
    base::CallLog(invite.message().call_id())
        .error("mix {}: no RTP ports left in {}-{}", mix, config_.rtp_low, config_.rtp_high);
    invite.respond(503, "Service Unavailable", {{"Retry-After", "5"}});
    return;
  }
  Leg& leg = legs_[call->id()];
  leg.call = call;
  leg.log.add_call_id(call->call_id());
  leg.mix = mix;
  leg.port = pair->rtp.local_port();
  leg.stream = std::make_unique<media::AudioStream>(std::move(pair->rtp), std::move(pair->rtcp));
  handle_offer(leg, std::move(invite), true);
}

void MixerServer::on_reinvite(sip::Call& call, sip::IncomingRequest request) {
  Leg* leg = leg_of(call);
  if (!leg) {
    request.respond(481, "Call/Transaction Does Not Exist");
    return;
  }
  handle_offer(*leg, std::move(request), false);
}

void MixerServer::on_ack(sip::Call& call, const sip::Message& ack) {
  Leg* leg = leg_of(call);
  if (!leg || !leg->our_offer) return;
  auto offer = std::move(*leg->our_offer);
  leg->our_offer.reset();
  std::string error = "no answer in the ACK";
  auto answer = ack.body().empty() ? std::nullopt : sip::SessionDescription::parse(ack.body(), &error);
  std::optional<sip::AudioTerms> terms;
  if (answer) terms = sip::accept_answer(offer, *answer, &error);
  if (!terms || !apply(*leg, *terms, &error)) {
    leg->log.warn("mix {}: leg {}: {}; ending the call", leg->mix, leg->id, error);
    call.hangup();
  }
}

void MixerServer::on_info(sip::Call& call, sip::IncomingRequest request) {
  Leg* leg = leg_of(call);
  const auto& msg = request.message();
  if (!leg || leg->id == 0) {
    request.respond(481, "No Such Leg");
    return;
  }
  std::string ct = msg.content_type();
  if (ct != kControlContentType && ct != "application/json") {
    request.respond(415, "Unsupported Media Type", {{"Accept", kControlContentType}});
    return;
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(std::string(msg.body()), ec);
  const auto* obj = ec ? nullptr : value.if_object();
  const auto* action = obj ? obj->if_contains("action") : nullptr;
  if (!action || !action->is_string()) {
    request.respond(400, "Expected a JSON object with an action");
    return;
  }
  std::string refused = control(*leg, std::string(action->as_string()), *obj);
  if (refused.empty())
    request.respond(200, "OK");
  else
    request.respond(400, refused);
}

std::string MixerServer::control(Leg& leg, const std::string& action, const boost::json::object& body) {
  const auto* mix = body.if_contains("mix");
  std::string target = mix && mix->is_string() ? std::string(mix->as_string()) : std::string();
  const auto* db = body.if_contains("db");
  if (action == "move") {
    if (target.empty()) return "move needs a mix";
    leg.log.info("leg {}: moved from mix {} to {}", leg.id, leg.mix, target);
    engine_.move_leg(leg.id, target);
    leg.mix = target;
  } else if (action == "mute") {
    const auto* muted = body.if_contains("muted");
    engine_.set_mute(leg.id, !muted || !muted->is_bool() || muted->as_bool());
  } else if (action == "gain") {
    if (!db || !db->is_number()) return "gain needs db";
    engine_.set_gain(leg.id, db->to_number<double>());
  } else if (action == "listen" || action == "unlisten") {
    if (target.empty()) return action + " needs a mix";
    if (action == "listen" && (!db || !db->is_number())) return "listen needs db";
    std::optional<double> gain;
    if (action == "listen") gain = db->to_number<double>();
    std::string error;
    if (!engine_.set_listen(leg.id, target, gain, &error)) {
      leg.log.warn("leg {} in mix {}: {} {} refused: {}", leg.id, leg.mix, action, target, error);
      return error;
    }
    // Debug: a game server may change the gains many times a second.
    if (gain)
      leg.log.debug("leg {} in mix {}: listens to mix {} at {} dB", leg.id, leg.mix, target, *gain);
    else
      leg.log.debug("leg {} in mix {}: no longer listens to mix {}", leg.id, leg.mix, target);
  } else {
    return "Unknown action";
  }
  return {};
}

void MixerServer::on_terminated(sip::Call& call, int status, std::string_view reason) {
  auto it = legs_.find(call.id());
  if (it == legs_.end()) return;
  if (it->second.id) {
    engine_.remove_leg(it->second.id);
    it->second.log.info("mix {}: leg {} left ({} {})", it->second.mix, it->second.id, status, reason);
  }
  legs_.erase(it);
}

void MixerServer::on_leg_event(LegId id, MixEngine::LegEvent event) {
  for (auto& [cid, leg] : legs_) {
    if (leg.id != id) continue;
    if (event == MixEngine::LegEvent::Latched) {
      leg.log.info("leg {}: its RTP comes from elsewhere than its SDP address: sending there (symmetric RTP, /mixes)",
                   id);
      return;
    }
    leg.log.warn("mix {}: leg {} sent no RTP for {} ms; hanging up", leg.mix, id, config_.rtp_timeout_ms);
    leg.call->hangup();
    return;
  }
}

std::string MixerServer::mixes_json() {
  boost::json::array mixes;
  for (auto& m : engine_.snapshot()) {
    boost::json::array legs;
    for (auto& l : m.legs)
      legs.push_back({{"leg", l.id}, {"codec", l.codec}, {"local_port", l.local_port}, {"remote", l.remote},
                      {"latched", l.stats.latched},
                      {"muted", l.muted}, {"gain_db", l.gain_db}, {"send", l.send}, {"receive", l.receive},
                      {"packets_received", l.stats.packets_received}, {"packets_sent", l.stats.packets_sent},
                      {"lost", l.stats.lost}, {"jitter_ms", l.stats.jitter_ms},
                      {"concealed_frames", l.stats.concealed_frames}, {"bad_packets", l.stats.bad_packets},
                      {"stray_packets", l.stats.stray_packets}, {"listening", listening_json(l.listening)}});
    mixes.push_back({{"mix", m.id}, {"rate", m.rate}, {"legs", std::move(legs)}});
  }
  return boost::json::serialize(boost::json::object{{"mixes", std::move(mixes)}});
}

void MixerServer::add_metrics(http::MetricsPage& page) const {
  auto m = engine_.metrics();
  http::add_sip_message_counts(page, ua_->message_counts());
  page.counter("confab_mixer_ticks_total", "20 ms mixing ticks run", m.ticks);
  page.counter("confab_mixer_late_ticks_total", "ticks whose work ended after the next tick was due", m.late_ticks);
  page.counter("confab_mixer_encodes_total", "encoder runs", m.encodes);
  page.counter("confab_mixer_shared_encodes_total", "sends that reused another leg's encode", m.shared_encodes);
  page.gauge("confab_mixer_legs", "legs in all mixes", m.legs);
  page.gauge("confab_mixer_mixes", "active mixes", m.mixes);
  page.counter("confab_mixer_busy_seconds_total", "time the mixing threads spent working", m.busy_us / 1e6);
  page.gauge("confab_mixer_max_tick_work_seconds", "the longest tick's work", m.max_work_us / 1e6);
  page.gauge("confab_mixer_max_wake_late_seconds", "the latest a mixing thread woke after its tick was due",
             m.max_wake_late_us / 1e6);
}

}  // namespace confab::mixer
