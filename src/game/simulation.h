// The game's rules, as pure logic: players in a World, where they want to go,
// and what one tick of time does. The server is authoritative: a player moves
// toward its intent at most speed x dt per tick, stays in the world, never
// enters a full zone (it stops at the line), so no client can teleport.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "game/world.h"

namespace confab::game {

// Where a player wants to go: nowhere, a direction (a unit vector), or a point.
struct Intent {
  enum class Kind { stop, direction, target };
  Kind kind = Kind::stop;
  double x = 0, y = 0;  // the unit direction, or the target point

  static Intent stop() { return {}; }
  // Toward (dx, dy), normalised; (0, 0) is stop. The caller checks they are finite.
  static Intent toward(double dx, double dy);
  static Intent to(double x, double y) { return {Kind::target, x, y}; }
};

struct Player {
  std::string id;    // "p1", "p2", ...: assigned by the server, never reused
  std::string name;  // unique in the world, case-insensitively
  std::string sip;   // the player's SIP address ("" when the world does not need one)
  double x = 0, y = 0;
  const Zone* zone = nullptr;  // the zone holding (x, y)
  Intent intent;
};

// A player moved from one zone into another during a tick.
struct Crossing {
  const Player* player;
  const Zone* from;
  const Zone* to;
};

// The other zones a player hears (zone, dB), in the world's zone order.
using Heard = std::vector<std::pair<const Zone*, double>>;

class Simulation {
 public:
  // `seed` picks the spawn points.
  Simulation(const World& world, uint64_t seed);

  // A new player in the least full zone with room, at a random spot away from
  // its edges. On refusal `player` is null and code/reason say why: 400 (bad
  // SIP address, or none where the world needs one), 409 (name or address
  // taken), 503 (every zone full).
  struct Joined {
    const Player* player = nullptr;
    int code = 200;
    std::string reason;
  };
  Joined join(const std::string& name, const std::string& sip);
  void leave(const std::string& id);
  // False when there is no such player. Targets are clamped to the world.
  bool set_intent(const std::string& id, Intent intent);

  // What one tick did: the zone crossings, and what every player hears now.
  struct Tick {
    std::vector<Crossing> crossings;
    std::map<std::string, Heard> hears;  // by player id: the other zones it hears (empty: none)
  };
  // Moves every player for `dt` seconds.
  Tick tick(double dt);

  // The other zones the player hears now: those within proximity_m, at
  // proximity_db_at_line on the line falling linearly to -60 dB at proximity_m.
  Heard hears(const Player& player) const;
  // The gain of a zone `distance` metres away (-60 or less: not heard).
  static double gain_db(const World& world, double distance);

  const Player* player(const std::string& id) const;
  std::vector<const Player*> players() const;  // in the order they joined
  size_t population(const Zone& zone) const { return population_[world_.index_of(zone)]; }
  const World& world() const { return world_; }

 private:
  Player* find(const std::string& id);
  void move(Player& p, double dt);
  // How far (0 to 1) along its step (dx, dy) the player would enter a full
  // zone; nullopt when none is in the way.
  std::optional<double> full_zone_ahead(const Player& p, double dx, double dy) const;
  const Zone* spawn_zone() const;

  const World& world_;
  std::mt19937_64 random_;
  std::map<uint64_t, Player> players_;  // by number: join order, stable addresses
  std::vector<size_t> population_;      // by zone index
  uint64_t next_id_ = 1;
};

}  // namespace confab::game
