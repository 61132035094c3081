// The game's voice through the conference server (world voice = "server"):
// each player's SIP address is brought into its zone's conference with an
// RFC 4579 REFER to that conference; the zones' rosters come from the
// conference event package (RFC 4575); a zone crossing moves the player's
// participant with the admin API (inside the mixer: no re-INVITE, no gap), and
// near a boundary the participant also hears the other zone (admin "listen").
//
// Per player the voice keeps what should be (its zone, the zones it hears) and
// what is (where its participant is, what it hears), and does one admin
// request at a time until they agree, so quick crossings never race.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "conference_events/conference_subscription.h"
#include "game/conference_admin.h"
#include "game/latency_histogram.h"
#include "game/voice.h"
#include "sip/user_agent.h"

namespace confab::game {

class ServerVoice final : public Voice, public sip::UserAgent::Handler {
 public:
  struct Settings {
    std::vector<sip::ListenSpec> sip;  // where the game's user agent listens
    std::string identity;              // its From, e.g. sip:game@127.0.0.1:5075
    base::HostPort admin;              // the conference server's admin API
    std::string admin_token;
    std::chrono::milliseconds retry{5000};  // a REFER the conference server did not take is sent again after this
  };
  // Throws std::runtime_error when SIP cannot bind or the admin API refuses (a wrong token).
  ServerVoice(sip::EventLoop& loop, const World& world, Settings settings);
  ~ServerVoice() override;

  void player_joined(const Player& player, const Zone& zone) override;
  void player_crossed(const Player& player, const Zone& from, const Zone& to) override;
  void player_hears(const Player& player, const std::vector<std::pair<const Zone*, double>>& zones) override;
  void player_left(const Player& player) override;
  void call_again(const Player& player) override;
  VoiceStatus status(const std::string& player_id) const override;
  std::map<std::string, std::vector<std::string>> rosters() const override;
  VoiceMetrics metrics() const override;

  // sip::UserAgent::Handler: nobody calls the game.
  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;

 private:
  struct Caller;
  class ReferWatch;
  void call(Caller& caller);
  void refer_answered(const std::string& player_id, int status, const std::string& reason);
  void refer_outcome(const std::string& player_id, int status, const std::string& reason);
  void reconcile(const std::string& player_id);
  // A move answered: counted, and timed from the crossing it followed (if any).
  void count_move(bool moved, std::optional<std::chrono::steady_clock::time_point> crossed_at,
                  std::chrono::steady_clock::time_point answered_at);
  void after_request(const std::string& player_id, int status, const std::string& error, const char* what);
  // A zone's roster changed: who is in which conference, kept per member so that
  // one NOTIFY costs its own members, not every player times every zone.
  void roster_changed(const std::string& zone, const std::vector<conference_events::RosterMember>& members);
  void maintain();  // once a second: zone subscriptions, retries, players gone from every roster
  void watch_zone(const Zone& zone);
  bool in_a_roster(const std::string& key) const;
  static std::string conference_id(const Zone& zone);

  sip::EventLoop& loop_;
  const World& world_;
  Settings settings_;
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<ConferenceAdmin> admin_;
  std::map<std::string, std::unique_ptr<Caller>> callers_;  // by player id
  std::map<std::string, std::unique_ptr<conference_events::ConferenceSubscription>> zones_;  // by zone name
  std::map<std::string, std::vector<std::string>> members_;  // by zone name: the roster's entities as reported
  std::unordered_map<std::string, int> present_;             // by address key: in how many zones' rosters
  std::unordered_map<std::string, std::string> by_key_;      // address key -> player id
  sip::Timer maintenance_;
  VoiceMetrics counts_;             // its counters; the quantiles come from move_latency_
  LatencyHistogram move_latency_;  // crossing -> the move's answer
};

// The factory of GameServer: a ServerVoice from the options (--sip, --admin,
// --admin-token-file). Throws when the admin API cannot be used.
VoiceFactory server_voice();

}  // namespace confab::game
