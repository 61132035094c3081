#include "game/server_voice.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "game/game_options.h"
#include "sip/sipfrag.h"
#include "sip/uri.h"

namespace confab::game {

using Clock = std::chrono::steady_clock;

namespace {
// A player absent from every zone's roster this long after being in one has hung up
// (a move shows it leaving one roster a moment before it joins the next).
constexpr std::chrono::milliseconds kGoneAfter{1500};
// Gains closer than this are the same for the listener: not worth a request.
constexpr double kGainStepDb = 1.0;
}  // namespace

// One player's voice: what should be, and what is.
struct ServerVoice::Caller {
  std::string id, sip, key;                       // key: its address as rosters are compared
  const Zone* referred_to = nullptr;              // the zone of the last REFER
  const Zone* zone = nullptr;                     // the zone it is in (should talk in)
  std::map<std::string, double> wanted_hearing;   // conference id -> dB: the zones it should hear
  VoiceStatus status;
  std::unique_ptr<ReferWatch> watch;              // the handler of `refer`: outlives it
  std::unique_ptr<sip::Subscriber> refer;         // the REFER bringing it in, while it reports
  std::string pid;                                // its participant at the conference server, once found
  std::string in_conference;                      // the conference its participant is in
  std::map<std::string, double> hearing;          // conference id -> dB it hears now
  bool busy = false;                              // an admin request is under way
  std::optional<Clock::time_point> crossed_at;    // the first crossing its participant has not followed yet
  bool retry = false;                             // the conference server did not take the REFER
  Clock::time_point retry_at, seen_at;
  bool seen = false;                              // in a zone's roster since it was last called
};

// The REFER's implicit subscription: its refusal, or the sipfrag of how the INVITE ended.
class ServerVoice::ReferWatch final : public sip::SubscriberHandler {
 public:
  ReferWatch(ServerVoice& voice, std::string player_id) : voice_(voice), id_(std::move(player_id)) {}
  void on_subscribe_response(sip::Subscriber&, int status, std::string_view reason) override {
    if (status >= 300) voice_.refer_answered(id_, status, std::string(reason));
  }
  void on_notify(sip::Subscriber&, const sip::Message& notify) override {
    auto frag = sip::parse_sipfrag(notify.body());
    if (frag && frag->status >= 200) voice_.refer_outcome(id_, frag->status, frag->reason);
  }
  void on_ended(sip::Subscriber&, int status, std::string_view why) override {
    if (status >= 300) voice_.refer_answered(id_, status, std::string(why));  // e.g. the REFER timed out
  }

 private:
  ServerVoice& voice_;
  std::string id_;
};

std::string ServerVoice::conference_id(const Zone& zone) {
  auto uri = sip::Uri::parse(zone.conference);
  return uri ? uri->user() : zone.name;
}

ServerVoice::ServerVoice(sip::EventLoop& loop, const World& world, Settings settings)
    : loop_(loop), world_(world), settings_(std::move(settings)), maintenance_(loop) {
  admin_ = std::make_unique<ConferenceAdmin>(loop_, settings_.admin, settings_.admin_token);
  // A wrong token is a mistake to fix now; a conference server that is down may come back.
  auto check = admin_->check();
  if (check.status == 401)
    throw std::runtime_error("the conference admin API at http://" + settings_.admin.str() +
                             " refused the token (401): check --admin-token-file");
  if (!check.error.empty())
    spdlog::warn("game voice: the conference admin API at http://{} does not answer ({}); players get voice once it "
                 "does", settings_.admin.str(), check.error);
  sip::UserAgentOptions o;
  o.listen = settings_.sip;
  o.identity = settings_.identity;
  o.user_agent = "confab-game";
  ua_ = std::make_unique<sip::UserAgent>(loop_, o, *this);
  maintenance_.every(std::chrono::seconds(1), [this] { maintain(); });
  spdlog::info("game voice: conferences through {}, admin API http://{}", settings_.identity, settings_.admin.str());
}

ServerVoice::~ServerVoice() {
  maintenance_.cancel();
  zones_.clear();
  for (auto& [id, c] : callers_) c->refer.reset();
  if (ua_) ua_->shutdown(std::chrono::milliseconds(1000));
}

void ServerVoice::on_incoming_call(const std::shared_ptr<sip::Call>&, sip::IncomingRequest invite) {
  invite.respond(403, "Forbidden");
}

// ---- players ----

void ServerVoice::player_joined(const Player& player, const Zone& zone) {
  auto& c = callers_[player.id] = std::make_unique<Caller>();
  c->id = player.id;
  c->sip = player.sip;
  c->key = sip::address_key(player.sip);
  c->zone = &zone;
  by_key_[c->key] = player.id;
  watch_zone(zone);
  call(*c);
}

void ServerVoice::call(Caller& c) {
  c.retry = false;
  c.seen = false;
  c.pid.clear();
  c.in_conference.clear();
  c.hearing.clear();
  c.status = {"calling", "the conference calls " + c.sip};
  c.watch = std::make_unique<ReferWatch>(*this, c.id);
  c.referred_to = c.zone;
  c.refer = ua_->refer(c.zone->conference, c.sip, *c.watch);
  spdlog::info("game voice: {} ({}) invited into {}", c.id, c.sip, c.zone->conference);
}

void ServerVoice::refer_answered(const std::string& player_id, int status, const std::string& reason) {
  auto it = callers_.find(player_id);
  if (it == callers_.end() || it->second->status.state != "calling") return;
  Caller& c = *it->second;
  // The conference server did not take the REFER (down, overloaded): the game goes on, and retries.
  c.status = {"failed", "the conference server: " + std::to_string(status) + " " + reason + " (retrying)"};
  c.retry = true;
  c.retry_at = Clock::now() + settings_.retry;
  spdlog::warn("game voice: {}: REFER to {} failed ({} {}), retrying", c.id, c.zone->conference, status, reason);
}

void ServerVoice::refer_outcome(const std::string& player_id, int status, const std::string& reason) {
  auto it = callers_.find(player_id);
  if (it == callers_.end() || it->second->status.state != "calling") return;
  Caller& c = *it->second;
  if (status >= 300) {  // the phone refused or could not be reached: the player may ask again
    c.status = {"failed", std::to_string(status) + " " + reason};
    spdlog::info("game voice: {}: {} not reached ({} {})", c.id, c.sip, status, reason);
    return;
  }
  c.status = {"on", ""};
  c.seen_at = Clock::now();
  std::string conference = conference_id(*c.referred_to);  // where it was called into; a crossing since is a move
  admin_->find_participant(conference, c.sip, [this, player_id, conference](const std::string& pid,
                                                                             const std::string& error) {
    auto it = callers_.find(player_id);
    if (it == callers_.end()) return;
    if (pid.empty()) return spdlog::warn("game voice: {}: participant not found in {}: {}", player_id, conference, error);
    it->second->pid = pid;
    it->second->in_conference = conference;
    reconcile(player_id);  // the player may have crossed, or come near a line, meanwhile
  });
}

void ServerVoice::player_crossed(const Player& player, const Zone&, const Zone& to) {
  auto it = callers_.find(player.id);
  if (it == callers_.end()) return;
  ++counts_.crossings;
  Caller& c = *it->second;
  c.zone = &to;
  if (!c.pid.empty() && !c.crossed_at) c.crossed_at = Clock::now();  // timed from here to the move's answer
  watch_zone(to);
  reconcile(player.id);
}

void ServerVoice::player_hears(const Player& player, const std::vector<std::pair<const Zone*, double>>& zones) {
  auto it = callers_.find(player.id);
  if (it == callers_.end()) return;
  it->second->wanted_hearing.clear();
  for (auto& [zone, db] : zones) it->second->wanted_hearing[conference_id(*zone)] = db;
  reconcile(player.id);
}

void ServerVoice::player_left(const Player& player) {
  auto it = callers_.find(player.id);
  if (it == callers_.end()) return;
  if (!it->second->pid.empty()) {
    std::string pid = it->second->pid;
    admin_->remove(pid, [pid](int, const std::string& error) {
      if (!error.empty()) spdlog::info("game voice: hanging up {}: {}", pid, error);
    });
  }
  if (auto k = by_key_.find(it->second->key); k != by_key_.end() && k->second == player.id) by_key_.erase(k);
  callers_.erase(it);
}

void ServerVoice::call_again(const Player& player) {
  auto it = callers_.find(player.id);
  if (it == callers_.end() || it->second->status.state == "on" || it->second->status.state == "calling") return;
  call(*it->second);
}

// ---- keeping the participant where the player is ----

void ServerVoice::reconcile(const std::string& player_id) {
  auto it = callers_.find(player_id);
  if (it == callers_.end()) return;
  Caller& c = *it->second;
  if (c.busy || c.pid.empty() || c.status.state != "on") return;
  std::string wanted = conference_id(*c.zone);
  if (c.in_conference != wanted) {
    c.busy = true;
    auto started = Clock::now();
    auto crossed = std::exchange(c.crossed_at, std::nullopt);
    admin_->move(c.pid, wanted, [this, player_id, wanted, started, crossed](int status, const std::string& error,
                                                                            Clock::time_point answered_at) {
      count_move(error.empty(), crossed, answered_at);
      auto it = callers_.find(player_id);
      if (it != callers_.end() && error.empty()) {
        it->second->in_conference = wanted;
        it->second->hearing.erase(wanted);  // its own zone is never heard as a neighbour
        spdlog::info("game voice: {} moved to {} in {} ms", player_id, wanted,
                     std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
      }
      after_request(player_id, status, error, "move");
    });
    return;
  }
  c.crossed_at.reset();  // crossed back before a move was under way: nothing to follow
  auto wanted_hearing = c.wanted_hearing;
  wanted_hearing.erase(wanted);
  for (auto& [conference, db] : c.hearing)  // a zone no longer heard
    if (!wanted_hearing.count(conference)) {
      c.busy = true;
      std::string conf = conference;
      return admin_->listen(c.pid, conf, std::nullopt, [this, player_id, conf](int status, const std::string& error) {
        if (auto it = callers_.find(player_id); it != callers_.end() && error.empty()) it->second->hearing.erase(conf);
        after_request(player_id, status, error, "unlisten");
      });
    }
  for (auto& [conference, db] : wanted_hearing) {  // a zone newly heard, or at another gain
    auto now = c.hearing.find(conference);
    if (now != c.hearing.end() && std::fabs(now->second - db) < kGainStepDb) continue;
    c.busy = true;
    std::string conf = conference;
    double gain = db;
    return admin_->listen(c.pid, conf, gain, [this, player_id, conf, gain](int status, const std::string& error) {
      if (auto it = callers_.find(player_id); it != callers_.end() && error.empty()) it->second->hearing[conf] = gain;
      after_request(player_id, status, error, "listen");
    });
  }
}

void ServerVoice::count_move(bool moved, std::optional<Clock::time_point> crossed_at, Clock::time_point answered_at) {
  if (!moved) {
    ++counts_.move_failures;
    return;
  }
  ++counts_.moves;
  if (crossed_at)
    move_latency_.add(std::chrono::duration_cast<std::chrono::microseconds>(answered_at - *crossed_at));
}

void ServerVoice::after_request(const std::string& player_id, int status, const std::string& error, const char* what) {
  auto it = callers_.find(player_id);
  if (it == callers_.end()) return;
  it->second->busy = false;
  if (!error.empty()) {
    spdlog::warn("game voice: {} of {} failed: {}", what, player_id, error);
    if (status == 404) {  // the participant is gone (hung up)
      it->second->pid.clear();
      it->second->status = {"off", "the call ended"};
    }
    return;  // retried by maintain() once a second
  }
  reconcile(player_id);
}

// ---- rosters and upkeep ----

void ServerVoice::watch_zone(const Zone& zone) {
  auto& slot = zones_[zone.name];
  if (slot && !slot->ended()) return;
  slot = std::make_unique<conference_events::ConferenceSubscription>(
      *ua_, zone.conference, [this, name = zone.name](const auto& members) { roster_changed(name, members); },
      [this, name = zone.name](int, std::string_view) { roster_changed(name, {}); });  // nothing known any more
}

void ServerVoice::roster_changed(const std::string& zone, const std::vector<conference_events::RosterMember>& members) {
  auto& entities = members_[zone];
  for (auto& e : entities) --present_[sip::address_key(e)];
  entities.clear();
  auto now = Clock::now();
  for (auto& m : members) {
    entities.push_back(m.entity);
    std::string key = sip::address_key(m.entity);
    ++present_[key];
    auto player = by_key_.find(key);
    if (player == by_key_.end()) continue;
    if (auto c = callers_.find(player->second); c != callers_.end()) {
      c->second->seen = true;
      c->second->seen_at = now;
    }
  }
}

bool ServerVoice::in_a_roster(const std::string& key) const {
  auto it = present_.find(key);
  return it != present_.end() && it->second > 0;
}

void ServerVoice::maintain() {
  auto now = Clock::now();
  for (auto& [id, c] : callers_) {
    if (c->retry && now >= c->retry_at) call(*c);
    if (c->status.state == "on" && c->seen && !in_a_roster(c->key) && now - c->seen_at > kGoneAfter) {
      spdlog::info("game voice: {} ({}) left the conference", id, c->sip);
      c->status = {"off", "the call ended"};
      c->pid.clear();
    }
    if (c->status.state == "on" && !c->busy) reconcile(id);  // a request that failed, tried again
  }
  // Zones someone is in or calling into keep a live subscription (a 404 before the
  // conference existed, or the conference ended when its last participant left).
  for (auto& [id, c] : callers_)
    if (c->status.state == "on" || c->status.state == "calling") watch_zone(*c->zone);
}

VoiceStatus ServerVoice::status(const std::string& player_id) const {
  auto it = callers_.find(player_id);
  return it == callers_.end() ? VoiceStatus{"off", "not in the game"} : it->second->status;
}

std::map<std::string, std::vector<std::string>> ServerVoice::rosters() const { return members_; }

VoiceMetrics ServerVoice::metrics() const {
  VoiceMetrics m = counts_;
  m.move_ms_p50 = move_latency_.quantile_ms(0.5);
  m.move_ms_p99 = move_latency_.quantile_ms(0.99);
  m.move_ms_max = move_latency_.max_ms();
  return m;
}

VoiceFactory server_voice() {
  return [](sip::EventLoop& loop, const World& world, const GameOptions& o) -> std::unique_ptr<Voice> {
    ServerVoice::Settings s;
    s.sip.push_back(*sip::ListenSpec::parse("udp:" + o.sip.str()));
    s.identity = "sip:game@" + o.sip.str();
    auto admin = base::split_host_port(o.admin_url.substr(o.admin_url.find("//") + 2));
    if (!admin) throw std::invalid_argument("--admin must be http://HOST:PORT, not " + o.admin_url);
    s.admin = *admin;
    s.admin_token = o.admin_token;
    return std::make_unique<ServerVoice>(loop, world, std::move(s));
  };
}

}  // namespace confab::game
