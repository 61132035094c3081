#include "game/world.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <stdexcept>

#include "sip/uri.h"

namespace confab::game {

namespace {

constexpr size_t kMaxZones = 256;

bool inside(const Zone& z, double px, double py) {
  return px > z.x && px < z.x + z.width && py > z.y && py < z.y + z.height;
}

// A point of the world no zone covers, if there is one: the centre of a cell of
// the grid the zones' edges draw, in no zone.
std::optional<std::pair<double, double>> uncovered_point(const World& w) {
  std::set<double> xs{0, w.width}, ys{0, w.height};
  for (auto& z : w.zones) {
    xs.insert({z.x, z.x + z.width});
    ys.insert({z.y, z.y + z.height});
  }
  std::vector<double> vx(xs.begin(), xs.end()), vy(ys.begin(), ys.end());
  for (size_t i = 0; i + 1 < vx.size(); ++i) {
    for (size_t j = 0; j + 1 < vy.size(); ++j) {
      double cx = (vx[i] + vx[i + 1]) / 2, cy = (vy[j] + vy[j + 1]) / 2;
      if (cx <= 0 || cy <= 0 || cx >= w.width || cy >= w.height) continue;
      if (std::none_of(w.zones.begin(), w.zones.end(), [&](const Zone& z) { return inside(z, cx, cy); }))
        return std::pair{cx, cy};
    }
  }
  return std::nullopt;
}

}  // namespace

void check_zone(const World& w, const Zone& z) {
  if (!valid_world_name(z.name, 32))
    throw std::runtime_error(fmt::format("zone name '{}' must be 1-32 characters of a-z, 0-9 and _", z.name));
  if (!(z.width > 0 && z.height > 0))
    throw std::runtime_error(fmt::format("zone '{}' must have a positive width and height", z.name));
  const double slack = 1e-9 * std::max(w.width, w.height);
  if (z.x < 0 || z.y < 0 || z.x + z.width > w.width + slack || z.y + z.height > w.height + slack)
    throw std::runtime_error(fmt::format("zone '{}' ({}, {}, {} x {}) reaches outside the world (0, 0, {} x {})",
                                         z.name, z.x, z.y, z.width, z.height, w.width, w.height));
  if (!z.conference.empty() && !sip::is_sip_uri(z.conference))
    throw std::runtime_error(fmt::format("zone '{}': conference '{}' is not a sip: URI", z.name, z.conference));
  if (z.max_players == 0) throw std::runtime_error(fmt::format("zone '{}': max_players must be at least 1", z.name));
}

double Zone::distance_to(double px, double py) const {
  double dx = std::max({x - px, 0.0, px - (x + width)});
  double dy = std::max({y - py, 0.0, py - (y + height)});
  return std::hypot(dx, dy);
}

std::string_view voice_mode_name(VoiceMode mode) { return mode == VoiceMode::server ? "server" : "client"; }

const Zone* World::zone_at(double px, double py) const {
  px = std::clamp(px, 0.0, width);
  py = std::clamp(py, 0.0, height);
  const Zone* nearest = nullptr;
  double best = INFINITY;
  for (auto& z : zones) {
    bool in_x = (px >= z.x && px < z.x + z.width) || (px == width && z.x + z.width >= width && px >= z.x);
    bool in_y = (py >= z.y && py < z.y + z.height) || (py == height && z.y + z.height >= height && py >= z.y);
    if (in_x && in_y) return &z;
    // Rounding at an edge: the nearest zone (coverage is checked on loading).
    double d = z.distance_to(px, py);
    if (d < best) best = d, nearest = &z;
  }
  return nearest;
}

const Zone* World::zone(std::string_view zone_name) const {
  for (auto& z : zones)
    if (z.name == zone_name) return &z;
  return nullptr;
}

bool valid_world_name(std::string_view name, size_t max) {
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

World default_world(const std::string& conference_host) {
  World w;
  add_quadrants(w, conference_host);
  return w;
}

void add_quadrants(World& w, const std::string& conference_host) {
  const char* names[] = {"nw", "ne", "sw", "se"};
  for (int i = 0; i < 4; ++i) {
    Zone z;
    z.name = names[i];
    z.width = w.width / 2;
    z.height = w.height / 2;
    z.x = (i % 2) * z.width;
    z.y = (i / 2) * z.height;
    z.max_players = w.max_players_per_zone;
    if (!conference_host.empty()) z.conference = "sip:" + w.name + "-" + z.name + "@" + conference_host;
    w.zones.push_back(z);
  }
}

void check_zones(const World& w) {
  if (w.zones.empty()) throw std::runtime_error("the world has no zones");
  if (w.zones.size() > kMaxZones) throw std::runtime_error(fmt::format("at most {} zones", kMaxZones));
  std::set<std::string> names;
  for (auto& z : w.zones) {
    check_zone(w, z);
    if (!names.insert(z.name).second) throw std::runtime_error(fmt::format("two zones are named '{}'", z.name));
  }
  const double tiny = 1e-9 * std::max(w.width, w.height);
  for (size_t i = 0; i < w.zones.size(); ++i) {
    for (size_t j = i + 1; j < w.zones.size(); ++j) {
      auto& a = w.zones[i];
      auto& b = w.zones[j];
      double x0 = std::max(a.x, b.x), x1 = std::min(a.x + a.width, b.x + b.width);
      double y0 = std::max(a.y, b.y), y1 = std::min(a.y + a.height, b.y + b.height);
      if (x1 - x0 > tiny && y1 - y0 > tiny)
        throw std::runtime_error(fmt::format("zones '{}' and '{}' overlap (both hold ({}, {}))", a.name, b.name,
                                             (x0 + x1) / 2, (y0 + y1) / 2));
    }
  }
  if (auto gap = uncovered_point(w))
    throw std::runtime_error(fmt::format("no zone holds the point ({}, {}): the zones must cover the whole world "
                                         "({} x {} m); add a zone there or make the world smaller",
                                         gap->first, gap->second, w.width, w.height));
}

}  // namespace confab::game
