// load_world: the world file (TOML) read key by key, each error naming the
// file, the line, the key and what is wrong.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>

#include "base/toml_file.h"
#include "game/world.h"

namespace confab::game {

namespace {

const std::initializer_list<std::string_view> kWorldKeys = {
    "name", "width", "height", "speed", "max_players_per_zone", "proximity_m", "proximity_db_at_line",
    "tick_ms", "voice", "zones"};
const std::initializer_list<std::string_view> kZoneKeys = {"name",   "x",          "y",          "width",
                                                           "height", "conference", "max_players"};

Zone read_zone(const std::string& path, const toml::node& node, size_t number, const World& w,
               const std::string& conference_host) {
  std::string prefix = fmt::format("zones[{}]", number);
  auto* table = node.as_table();
  if (!table) base::fail_at(path, node.source(), prefix, "must be a table ([[zones]]), " + base::shown_value(node));
  base::TomlTable r(path, *table, prefix);
  r.only(kZoneKeys);
  Zone z;
  auto name = r.string("name");
  if (!name) r.fail(r.where(), "name", "missing (every zone needs a name, e.g. name = \"lobby\")");
  if (!valid_world_name(*name, 32))
    r.fail(r.get("name")->source(), "name", fmt::format("must be 1-32 characters of a-z, 0-9 and _, not \"{}\"", *name));
  z.name = *name;
  z.x = r.number("x", 0, 0, w.width, " m");
  z.y = r.number("y", 0, 0, w.height, " m");
  if (!r.get("width") || !r.get("height"))
    r.fail(r.where(), r.get("width") ? "height" : "width", "missing (a zone is x, y, width and height in metres)");
  z.width = r.number("width", 0, 1e-3, w.width, " m");
  z.height = r.number("height", 0, 1e-3, w.height, " m");
  z.max_players = static_cast<size_t>(
      r.integer("max_players", static_cast<int64_t>(w.max_players_per_zone), 1, 100000, " players"));
  if (auto uri = r.string("conference")) {
    z.conference = *uri;
  } else if (!conference_host.empty()) {
    z.conference = "sip:" + w.name + "-" + z.name + "@" + conference_host;
  }
  try {
    check_zone(w, z);
  } catch (const std::runtime_error& e) {
    r.fail(r.where(), "", e.what());
  }
  return z;
}

void read_world_settings(const base::TomlTable& r, World& w) {
  if (auto name = r.string("name")) {
    if (!valid_world_name(*name, 31))
      r.fail(r.get("name")->source(), "name", fmt::format("must be 1-31 characters of a-z, 0-9 and _, not \"{}\"", *name));
    w.name = *name;
  }
  w.width = r.number("width", w.width, 1, 1e6, " m");
  w.height = r.number("height", w.height, 1, 1e6, " m");
  w.speed = r.number("speed", w.speed, 0.01, 1000, " m/s");
  w.max_players_per_zone = static_cast<size_t>(r.integer("max_players_per_zone", 50, 1, 100000, " players"));
  w.proximity_m = r.number("proximity_m", w.proximity_m, 0, 1e6, " m (0: off)");
  w.proximity_db_at_line = r.number("proximity_db_at_line", w.proximity_db_at_line, -59, 0, " dB");
  w.tick_ms = static_cast<unsigned>(r.integer("tick_ms", w.tick_ms, 10, 1000, " ms"));
  if (auto voice = r.string("voice")) {
    if (*voice != "server" && *voice != "client")
      r.fail(r.get("voice")->source(), "voice", fmt::format("must be \"server\" or \"client\", not \"{}\"", *voice));
    w.voice = *voice == "server" ? VoiceMode::server : VoiceMode::client;
  }
}

}  // namespace

World load_world(const std::string& path, const std::string& conference_host) {
  if (path.empty()) return default_world(conference_host);
  toml::table root = base::parse_toml_file(path);
  base::TomlTable r(path, root, "");
  r.only(kWorldKeys);
  World w;
  read_world_settings(r, w);
  const toml::node* zones = r.get("zones");
  if (!zones) {
    add_quadrants(w, conference_host);
    return w;
  }
  auto* array = zones->as_array();
  if (!array || array->empty())
    r.fail(zones->source(), "zones", "must be one or more [[zones]] tables, " + base::shown_value(*zones));
  for (size_t i = 0; i < array->size(); ++i) w.zones.push_back(read_zone(path, (*array)[i], i + 1, w, conference_host));
  try {
    check_zones(w);
  } catch (const std::runtime_error& e) {
    r.fail(zones->source(), "zones", e.what());
  }
  return w;
}

}  // namespace confab::game
