// The game's voice: what puts each player into its zone's conference, moves
// it when it crosses into another zone, and lets it hear the zones nearby.
//
// The game server tells a Voice what happens to players and asks it for their
// status and the zones' rosters once a tick. Implementations plug in through a
// VoiceFactory given to GameServer; this folder ships NoVoice (no conference
// host, or voice in the page: world voice = "client"). Everything runs on the
// game's SIP thread (the thread of the EventLoop the factory gets).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "game/simulation.h"
#include "game/world.h"

namespace confab::sip {
class EventLoop;
}

namespace confab::game {

struct GameOptions;

struct VoiceStatus {
  std::string state = "off";  // "off", "calling", "on", "failed"
  std::string reason;
};

// What the voice did since it started (the game server's GET /metrics).
struct VoiceMetrics {
  uint64_t crossings = 0;      // zone crossings it was told of
  uint64_t moves = 0;          // participants moved into another zone's conference
  uint64_t move_failures = 0;  // moves the conference server refused or did not answer
  // From a crossing (the tick it happened in) to the move that follows it
  // answered, i.e. the mixer has the leg in the new zone's mix: quantiles and the
  // longest, over every such move so far; 0 before the first.
  double move_ms_p50 = 0, move_ms_p99 = 0, move_ms_max = 0;
};

class Voice {
 public:
  virtual ~Voice() = default;  // everything on the game's SIP thread
  virtual void player_joined(const Player& player, const Zone& zone) = 0;
  virtual void player_crossed(const Player& player, const Zone& from, const Zone& to) = 0;
  // The other zones the player hears now (zone, dB), replacing the previous set; empty: none.
  virtual void player_hears(const Player& player, const std::vector<std::pair<const Zone*, double>>& zones) = 0;
  virtual void player_left(const Player& player) = 0;
  virtual void call_again(const Player& player) = 0;
  virtual VoiceStatus status(const std::string& player_id) const = 0;
  // Who is in each zone's conference now, by zone name (SIP URIs), as the conference reports it.
  virtual std::map<std::string, std::vector<std::string>> rosters() const = 0;
  virtual VoiceMetrics metrics() const { return {}; }
};

// Makes the game's Voice, on the SIP thread, once the world and options are
// known. The world and options outlive the Voice; so does the loop.
using VoiceFactory =
    std::function<std::unique_ptr<Voice>(sip::EventLoop& loop, const World& world, const GameOptions& options)>;

// No voice: every player is "off" with the same reason, no rosters.
class NoVoice final : public Voice {
 public:
  explicit NoVoice(std::string reason) : reason_(std::move(reason)) {}
  void player_joined(const Player&, const Zone&) override {}
  void player_crossed(const Player&, const Zone&, const Zone&) override {}
  void player_hears(const Player&, const std::vector<std::pair<const Zone*, double>>&) override {}
  void player_left(const Player&) override {}
  void call_again(const Player&) override {}
  VoiceStatus status(const std::string&) const override { return {"off", reason_}; }
  std::map<std::string, std::vector<std::string>> rosters() const override { return {}; }

 private:
  std::string reason_;
};

// A factory making NoVoice with `reason`.
VoiceFactory no_voice(std::string reason);

}  // namespace confab::game
