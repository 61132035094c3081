// A game world: its size, its zones (each one a conference) and the rules
// players move by. Read from a TOML file (docs/deployment.md, "The game
// server") or the default: 100 m x 100 m in four quadrants.
//
// Coordinates are metres from the world's north-west corner: x grows east,
// y grows south (as on a screen). A zone owns its west and north edges, and
// its east and south edges only where they are the world's: every point of
// the world is in exactly one zone.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace confab::game {

// A rectangle of the world whose players talk in one conference.
struct Zone {
  std::string name;  // [a-z0-9_]{1,32}
  double x = 0, y = 0, width = 0, height = 0;
  std::string conference;  // its conference's SIP URI; "" when the world has none
  size_t max_players = 50;

  // Distance in metres from the point to the rectangle (0 on or inside it).
  double distance_to(double px, double py) const;
};

// Who connects the players' calls: the game server (SIP), or each player's
// page through the player's own Confab client service.
enum class VoiceMode { server, client };
std::string_view voice_mode_name(VoiceMode mode);

struct World {
  std::string name = "world";  // [a-z0-9_]{1,31}: sip:<world>-<zone>@... fits a conference id
  double width = 100, height = 100;
  std::vector<Zone> zones;  // not resized once loaded: Zone pointers stay valid
  double speed = 5;         // fastest a player moves, m/s
  size_t max_players_per_zone = 50;
  // Near another zone's edge a player also hears that zone: proximity_db_at_line
  // at the line, falling linearly in dB to -60 at proximity_m, silent beyond.
  double proximity_m = 10;  // 0: off
  double proximity_db_at_line = -6;
  unsigned tick_ms = 50;
  VoiceMode voice = VoiceMode::server;

  // The zone holding the point (clamped to the world first).
  const Zone* zone_at(double x, double y) const;
  const Zone* zone(std::string_view name) const;
  size_t index_of(const Zone& zone) const { return static_cast<size_t>(&zone - zones.data()); }
  // proximity_m, or 0 when the world has no proximity (client voice mode).
  double effective_proximity_m() const { return voice == VoiceMode::server ? proximity_m : 0; }
};

// The default world: four quadrants nw, ne, sw, se of 50 m x 50 m.
World default_world(const std::string& conference_host);
// Gives `world` (which has no zones) the four quadrants nw, ne, sw, se.
void add_quadrants(World& world, const std::string& conference_host);

// The world of the TOML file at `path` ("": the default world). Zones without
// a `conference` get sip:<world>-<zone>@<conference_host> (none when that is
// ""). Throws std::runtime_error "PATH:LINE: KEY: what is wrong"; unknown keys
// are errors naming the nearest known one.
World load_world(const std::string& path, const std::string& conference_host);

// Checks the zones: each as check_zone, unique names, no overlap, no part of
// the world left out. Throws std::runtime_error saying which zones and where.
void check_zones(const World& world);
// Checks one zone: its name, a positive size inside the world, its conference
// URI, its player limit. Throws std::runtime_error naming the zone.
void check_zone(const World& world, const Zone& zone);

// [a-z0-9_]{1,max}: zone and world names.
bool valid_world_name(std::string_view name, size_t max);

}  // namespace confab::game
