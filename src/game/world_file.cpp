// load_world: the world file (TOML) read key by key, each error naming the
// file, the line, the key and what is wrong.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <stdexcept>

#include "game/world.h"

namespace confab::game {

namespace {

const std::initializer_list<std::string_view> kWorldKeys = {
    "name", "width", "height", "speed", "max_players_per_zone", "proximity_m", "proximity_db_at_line",
    "tick_ms", "voice", "zones"};
const std::initializer_list<std::string_view> kZoneKeys = {"name",   "x",          "y",          "width",
                                                           "height", "conference", "max_players"};

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string_view nearest(std::string_view key, std::initializer_list<std::string_view> known) {
  return *std::min_element(known.begin(), known.end(), [&](auto a, auto b) {
    return edit_distance(key, a) < edit_distance(key, b);
  });
}

// A value as the error shows it: "not -1", "not \"fast\"", "not a table".
std::string shown(const toml::node& node) {
  if (auto* s = node.as_string()) return fmt::format("not \"{}\"", s->get());
  if (auto* i = node.as_integer()) return fmt::format("not {}", i->get());
  if (auto* f = node.as_floating_point()) return fmt::format("not {}", f->get());
  if (auto* b = node.as_boolean()) return fmt::format("not {}", b->get());
  if (node.is_table()) return "not a table";
  if (node.is_array()) return "not an array";
  return "not a date or time";
}

// Throws "PATH:LINE: NAME: what".
[[noreturn]] void fail_at(const std::string& path, const toml::source_region& where, std::string_view name,
                          std::string_view what) {
  std::string line = where.begin.line ? ":" + std::to_string(where.begin.line) : "";
  throw std::runtime_error(fmt::format("{}{}: {}: {}", path, line, name, what));
}

// Reads one table's keys; `prefix` names it in errors ("" for the top, "zones[2]").
class TableReader {
 public:
  TableReader(const std::string& path, const toml::table& table, std::string prefix)
      : path_(path), table_(table), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(const toml::source_region& where, std::string_view key, std::string_view what) const {
    std::string name = prefix_.empty() ? std::string(key) : key.empty() ? prefix_ : prefix_ + "." + std::string(key);
    fail_at(path_, where, name, what);
  }

  void only(std::initializer_list<std::string_view> known) const {
    for (auto& [key, node] : table_) {
      if (std::find(known.begin(), known.end(), key.str()) == known.end())
        fail(key.source(), key.str(), fmt::format("unknown key (did you mean '{}'?)", nearest(key.str(), known)));
    }
  }

  const toml::node* get(std::string_view key) const { return table_.get(key); }

  // A number from lo to hi (integer or float), or `fallback` when absent.
  double number(std::string_view key, double fallback, double lo, double hi, std::string_view unit) const {
    const toml::node* node = get(key);
    if (!node) return fallback;
    std::optional<double> v;
    if (auto* i = node->as_integer()) v = static_cast<double>(i->get());
    if (auto* f = node->as_floating_point()) v = f->get();
    if (!v || !std::isfinite(*v) || *v < lo || *v > hi)
      fail(node->source(), key, fmt::format("must be a number from {} to {}{}, {}", lo, hi, unit, shown(*node)));
    return *v;
  }

  int64_t integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi, std::string_view unit) const {
    const toml::node* node = get(key);
    if (!node) return fallback;
    auto* i = node->as_integer();
    if (!i || i->get() < lo || i->get() > hi)
      fail(node->source(), key, fmt::format("must be a whole number from {} to {}{}, {}", lo, hi, unit, shown(*node)));
    return i->get();
  }

  std::optional<std::string> string(std::string_view key) const {
    const toml::node* node = get(key);
    if (!node) return std::nullopt;
    auto* s = node->as_string();
    if (!s) fail(node->source(), key, "must be a string, " + shown(*node));
    return s->get();
  }

  const toml::source_region& where() const { return table_.source(); }

 private:
  const std::string& path_;
  const toml::table& table_;
  std::string prefix_;
};

Zone read_zone(const std::string& path, const toml::node& node, size_t number, const World& w,
               const std::string& conference_host) {
  std::string prefix = fmt::format("zones[{}]", number);
  auto* table = node.as_table();
  if (!table) fail_at(path, node.source(), prefix, "must be a table ([[zones]]), " + shown(node));
  TableReader r(path, *table, prefix);
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

void read_world_settings(const TableReader& r, World& w) {
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
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    auto& at = e.source().begin;
    std::string where = at.line ? fmt::format(":{}:{}", at.line, at.column) : "";
    throw std::runtime_error(fmt::format("{}{}: {}", path, where, e.description()));
  }
  TableReader r(path, root, "");
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
    r.fail(zones->source(), "zones", "must be one or more [[zones]] tables, " + shown(*zones));
  for (size_t i = 0; i < array->size(); ++i) w.zones.push_back(read_zone(path, (*array)[i], i + 1, w, conference_host));
  try {
    check_zones(w);
  } catch (const std::runtime_error& e) {
    r.fail(zones->source(), "zones", e.what());
  }
  return w;
}

}  // namespace confab::game
