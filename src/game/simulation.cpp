#include "game/simulation.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "sip/uri.h"

namespace confab::game {

namespace {

// A player stopped by a full zone waits this far (metres) before its line.
constexpr double kLineGap = 1e-6;

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool same_address(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  auto ua = sip::Uri::parse(a), ub = sip::Uri::parse(b);
  return ua && ub ? ua->equivalent(*ub) : a == b;
}

// Where the segment (px, py) + t (dx, dy), t in [0, 1], first enters the zone
// (half-open: its east and south lines belong to the next zone), if it does.
std::optional<double> entry(const Zone& z, double px, double py, double dx, double dy) {
  double lo = 0, hi = 1;
  auto clip = [&](double p, double d, double min, double max) {
    if (std::fabs(d) < 1e-12) return p >= min && p < max;  // parallel: always in the slab, or never
    double t1 = (min - p) / d, t2 = (max - p) / d;
    lo = std::max(lo, std::min(t1, t2));
    hi = std::min(hi, std::max(t1, t2));
    return true;
  };
  if (!clip(px, dx, z.x, z.x + z.width) || !clip(py, dy, z.y, z.y + z.height) || lo > hi) return std::nullopt;
  if (lo == hi) {  // touches it at one point: an entry only if that point is the zone's
    double x = px + lo * dx, y = py + lo * dy;
    if (!(x >= z.x && x < z.x + z.width && y >= z.y && y < z.y + z.height)) return std::nullopt;
  }
  return lo;
}

}  // namespace

Intent Intent::toward(double dx, double dy) {
  double length = std::hypot(dx, dy);
  if (!(length > 0) || !std::isfinite(length)) return stop();
  return {Kind::direction, dx / length, dy / length};
}

Simulation::Simulation(const World& world, uint64_t seed)
    : world_(world), random_(seed), population_(world.zones.size(), 0) {}

Simulation::Joined Simulation::join(const std::string& name, const std::string& sip) {
  if (name.empty()) return {nullptr, 400, "a player needs a name"};
  if (sip.empty() && world_.voice == VoiceMode::server)
    return {nullptr, 400, "a SIP address is needed (the game server calls you there), e.g. sip:ann@192.0.2.7:5062"};
  if (!sip.empty() && !sip::is_sip_uri(sip))
    return {nullptr, 400, "'" + sip + "' is not a SIP address (sip:user@host[:port])"};
  for (auto& [n, p] : players_) {
    if (same_name(p.name, name)) return {nullptr, 409, "the name '" + p.name + "' is taken: choose another"};
    if (same_address(p.sip, sip)) return {nullptr, 409, sip + " is already playing"};
  }
  const Zone* zone = spawn_zone();
  if (!zone) return {nullptr, 503, "every zone of the world is full"};
  uint64_t number = next_id_++;
  Player& p = players_[number];
  p.id = "p" + std::to_string(number);
  p.name = name;
  p.sip = sip;
  std::uniform_real_distribution<double> unit(0.25, 0.75);  // the middle of the zone, away from its lines
  p.x = zone->x + zone->width * unit(random_);
  p.y = zone->y + zone->height * unit(random_);
  p.zone = world_.zone_at(p.x, p.y);
  ++population_[world_.index_of(*p.zone)];
  return {&p, 200, "OK"};
}

const Zone* Simulation::spawn_zone() const {
  const Zone* best = nullptr;
  for (auto& z : world_.zones) {
    size_t n = population(z);
    if (n < z.max_players && (!best || n < population(*best))) best = &z;
  }
  return best;
}

void Simulation::leave(const std::string& id) {
  Player* p = find(id);
  if (!p) return;
  --population_[world_.index_of(*p->zone)];
  players_.erase(std::stoull(id.substr(1)));
}

bool Simulation::set_intent(const std::string& id, Intent intent) {
  Player* p = find(id);
  if (!p) return false;
  if (intent.kind == Intent::Kind::target) {
    intent.x = std::clamp(intent.x, 0.0, world_.width);
    intent.y = std::clamp(intent.y, 0.0, world_.height);
  }
  p->intent = intent;
  return true;
}

Simulation::Tick Simulation::tick(double dt) {
  Tick t;
  for (auto& [n, p] : players_) {
    const Zone* from = p.zone;
    if (dt > 0) move(p, dt);
    if (p.zone != from) t.crossings.push_back({&p, from, p.zone});
  }
  for (auto& [n, p] : players_) t.hears.emplace(p.id, hears(p));
  return t;
}

void Simulation::move(Player& p, double dt) {
  if (p.intent.kind == Intent::Kind::stop) return;
  double step = world_.speed * dt, dx = p.intent.x * step, dy = p.intent.y * step;
  bool arriving = false;
  if (p.intent.kind == Intent::Kind::target) {
    dx = p.intent.x - p.x;
    dy = p.intent.y - p.y;
    double distance = std::hypot(dx, dy);
    arriving = distance <= step;
    if (!arriving) dx *= step / distance, dy *= step / distance;
  }
  // Stay in the world, then short of any full zone.
  dx = std::clamp(p.x + dx, 0.0, world_.width) - p.x;
  dy = std::clamp(p.y + dy, 0.0, world_.height) - p.y;
  if (auto fraction = full_zone_ahead(p, dx, dy)) {
    double length = std::hypot(dx, dy);
    double keep = length > 0 ? std::max(0.0, *fraction * length - kLineGap) / length : 0;
    dx *= keep, dy *= keep;
    arriving = false;
  }
  double x = p.x + dx, y = p.y + dy;
  const Zone* to = world_.zone_at(x, y);
  if (to != p.zone && population(*to) >= to->max_players) return;  // rounding put it over the line
  if (arriving) p.intent = Intent::stop();
  --population_[world_.index_of(*p.zone)];
  ++population_[world_.index_of(*to)];
  p.x = x, p.y = y, p.zone = to;
}

std::optional<double> Simulation::full_zone_ahead(const Player& p, double dx, double dy) const {
  std::optional<double> fraction;
  if (dx == 0 && dy == 0) return fraction;
  for (auto& z : world_.zones) {
    if (&z == p.zone || population(z) < z.max_players) continue;
    if (auto t = entry(z, p.x, p.y, dx, dy)) fraction = std::min(fraction.value_or(1.0), *t);
  }
  return fraction;
}

Heard Simulation::hears(const Player& p) const {
  Heard heard;
  double range = world_.effective_proximity_m();
  if (range <= 0) return heard;
  for (auto& z : world_.zones) {
    if (&z == p.zone) continue;
    double d = z.distance_to(p.x, p.y);
    if (d < range) heard.emplace_back(&z, gain_db(world_, d));
  }
  return heard;
}

double Simulation::gain_db(const World& w, double distance) {
  double range = w.effective_proximity_m();
  if (range <= 0 || distance >= range) return -60;
  return w.proximity_db_at_line + (-60 - w.proximity_db_at_line) * distance / range;
}

Player* Simulation::find(const std::string& id) {
  if (id.size() < 2 || id[0] != 'p' || id.size() > 20) return nullptr;
  uint64_t number = 0;
  for (size_t i = 1; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return nullptr;
    number = number * 10 + static_cast<uint64_t>(id[i] - '0');
  }
  auto it = players_.find(number);
  return it == players_.end() ? nullptr : &it->second;
}

const Player* Simulation::player(const std::string& id) const { return const_cast<Simulation*>(this)->find(id); }

std::vector<const Player*> Simulation::players() const {
  std::vector<const Player*> out;
  out.reserve(players_.size());
  for (auto& [n, p] : players_) out.push_back(&p);
  return out;
}

}  // namespace confab::game
