#include "game/game.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace confab::game {

Game::Game(const World& world, Voice& voice, Send send, std::chrono::milliseconds join_timeout, uint64_t seed)
    : world_(world), voice_(voice), send_(std::move(send)), join_timeout_(join_timeout), simulation_(world, seed),
      snapshot_(world), random_(seed + 1) {}

bool Game::add_bot(const std::string& name, const std::string& sip, Clock::time_point now) {
  // Connection ids of bots are out of the transport's range; what is "sent" to them goes nowhere.
  uint64_t connection = (uint64_t{1} << 62) + bots_.size();
  open(connection, now);
  sessions_[connection].bot = true;
  join(connection, sessions_[connection], JoinRequest{name, sip});
  if (sessions_[connection].player.empty()) {
    sessions_.erase(connection);
    return false;
  }
  bots_[connection] = now;
  return true;
}

void Game::wander(Clock::time_point now) {
  std::uniform_real_distribution<double> x(0, world_.width), y(0, world_.height);
  std::uniform_int_distribution<int> pause_ms(3000, 8000);
  for (auto& [connection, next] : bots_) {
    auto s = sessions_.find(connection);
    if (now < next || s == sessions_.end() || s->second.player.empty()) continue;
    simulation_.set_intent(s->second.player, Intent::to(x(random_), y(random_)));
    next = now + std::chrono::milliseconds(pause_ms(random_));
  }
}

void Game::open(uint64_t connection, Clock::time_point now) { sessions_[connection].opened = now; }

void Game::receive(uint64_t connection, const ClientMessage& message) {
  auto it = sessions_.find(connection);
  if (it == sessions_.end() || it->second.closing) return;
  Session& s = it->second;
  if (auto* join_request = std::get_if<JoinRequest>(&message)) {
    if (!s.player.empty()) return refuse(connection, 400, "already joined (as " + s.player + ")");
    return join(connection, s, *join_request);
  }
  const Player* p = simulation_.player(s.player);
  if (!p) return refuse(connection, 400, "join first: {\"type\":\"join\",\"name\":...}");
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, MoveRequest>) {
          simulation_.set_intent(s.player, Intent::toward(m.dx, m.dy));
        } else if constexpr (std::is_same_v<T, GotoRequest>) {
          simulation_.set_intent(s.player, Intent::to(m.x, m.y));
        } else if constexpr (std::is_same_v<T, CallAgainRequest>) {
          voice_.call_again(*p);
        } else if constexpr (std::is_same_v<T, LeaveRequest>) {
          remove_player(s, "");
          s.closing = true;
          send_(connection, "", true);
        }
      },
      message);
}

void Game::join(uint64_t connection, Session& s, const JoinRequest& request) {
  auto joined = simulation_.join(request.name, request.sip);
  if (!joined.player) {
    spdlog::info("game: connection {}: join as '{}' refused: {} {}", connection, request.name, joined.code,
                 joined.reason);
    return refuse(connection, joined.code, joined.reason);
  }
  const Player& p = *joined.player;
  s.player = p.id;
  spdlog::info("game: {} '{}'{} joined in zone {} at ({:.1f}, {:.1f})", p.id, p.name,
               p.sip.empty() ? "" : " (" + p.sip + ")", p.zone->name, p.x, p.y);
  if (!s.bot) send_(connection, welcome_message(p.id, world_), false);
  voice_.player_joined(p, *p.zone);
}

void Game::refuse(uint64_t connection, int code, const std::string& reason) {
  auto it = sessions_.find(connection);
  if (it == sessions_.end() || it->second.closing) return;
  it->second.closing = true;
  if (!it->second.bot) send_(connection, error_message(code, reason), true);
  if (!it->second.player.empty()) remove_player(it->second, " (refused)");
}

void Game::closed(uint64_t connection) {
  auto it = sessions_.find(connection);
  if (it == sessions_.end()) return;
  if (!it->second.player.empty()) remove_player(it->second, " (connection closed)");
  sessions_.erase(it);
}

void Game::remove_player(Session& s, const char* why) {  // why: "" or " (reason)"
  if (const Player* p = simulation_.player(s.player)) {
    spdlog::info("game: {} '{}' left zone {}{}", p->id, p->name, p->zone->name, why);
    voice_.player_left(*p);
    simulation_.leave(p->id);
  }
  s.player.clear();
}

void Game::leave_all() {
  for (auto& [connection, s] : sessions_)
    if (!s.player.empty()) remove_player(s, " (the game server stops)");
}

void Game::tick(double dt, Clock::time_point now) {
  wander(now);
  auto moved = simulation_.tick(dt);
  for (auto& c : moved.crossings) {
    spdlog::info("game: {} '{}' crossed from {} into {}", c.player->id, c.player->name, c.from->name, c.to->name);
    voice_.player_crossed(*c.player, *c.from, *c.to);
  }
  for (auto& [connection, s] : sessions_) {
    if (s.player.empty() && !s.closing && now - s.opened >= join_timeout_)
      refuse(connection, 408, "no join within " + std::to_string(join_timeout_.count() / 1000) + " s");
  }
  send_states(moved.hears);
}

bool Game::hears_changed(const Heard& before, const Heard& now) {
  if (before.size() != now.size()) return true;
  for (size_t i = 0; i < now.size(); ++i)
    if (before[i].first != now[i].first || std::fabs(before[i].second - now[i].second) > 1.0) return true;
  return false;
}

void Game::update_hearing(Session& s, const Player& p, const Heard& heard) {
  if (!hears_changed(s.told, heard)) return;
  voice_.player_hears(p, heard);
  s.told = heard;
}

namespace {

bool contains(const std::vector<size_t>& zones, size_t zone) {
  return std::find(zones.begin(), zones.end(), zone) != zones.end();
}

}  // namespace

uint64_t Game::far_zones_every() const {
  uint64_t per_second = std::max<uint64_t>(1, 1000 / std::max<uint64_t>(1, world_.tick_ms));
  uint64_t n = simulation_.players().size();
  return std::clamp<uint64_t>((n + kPlayersPerFarTick - 1) / kPlayersPerFarTick, 1, per_second);
}

void Game::send_states(const std::map<std::string, Heard>& hears) {
  ++ticks_;
  std::map<std::string, VoiceStatus> statuses;
  for (const Player* p : simulation_.players()) statuses.emplace(p->id, voice_.status(p->id));
  snapshot_.update(ticks_, simulation_.players(), statuses, voice_.rosters());
  uint64_t far_every = far_zones_every();
  for (auto& [connection, s] : sessions_) {
    const Player* p = s.closing ? nullptr : simulation_.player(s.player);
    if (!p) continue;
    auto it = hears.find(p->id);
    const Heard& heard = it == hears.end() ? Heard() : it->second;  // a player who joined after the move
    update_hearing(s, *p, heard);
    if (s.bot) continue;
    YouState you{p->id, p->zone->name, p->zone->conference, p->x, p->y, statuses[p->id], {{p->zone->name, 0.0}}};
    for (auto& [zone, db] : heard) you.hears.emplace_back(zone->name, db);
    send_state(connection, s, state_you(you), heard, far_every);
  }
}

void Game::send_state(uint64_t connection, Session& s, std::string you, const Heard& heard, uint64_t far_every) {
  const Player& p = *simulation_.player(s.player);
  // The zones it follows every tick: its own and those it hears.
  std::vector<size_t> near{snapshot_.zone_index(p.zone)};
  for (auto& [zone, db] : heard) near.push_back(snapshot_.zone_index(zone));
  bool first = !s.has_cards;
  bool changed = first || you != s.last_you || near != s.near || !snapshot_.changed_cards().empty() ||
                 !snapshot_.left().empty();
  for (size_t z : near) changed = changed || snapshot_.changed_at(z) == ticks_;
  // The others, once every far_every ticks (spread over the clients) if they changed.
  bool far = first;
  if (!far && (ticks_ + connection) % far_every == 0)
    for (size_t z = 0; z < snapshot_.zone_count() && !far; ++z)
      far = snapshot_.changed_at(z) > s.far_sent_at && !contains(near, z);
  if (!changed && !far) return;
  StateParts parts;
  parts.players = first ? snapshot_.all_cards() : snapshot_.changed_cards();
  if (!first) parts.left = snapshot_.left();
  parts.you = you;
  for (size_t z = 0; z < snapshot_.zone_count(); ++z) {
    // A near zone when it changed or became near (the client has every earlier change), with its roster.
    bool is_near = contains(near, z);
    bool near_news = is_near && (first || snapshot_.changed_at(z) == ticks_ || !contains(s.near, z));
    if (!near_news && !(far && !is_near)) continue;
    parts.zones.emplace_back(snapshot_.zone_name(z), snapshot_.positions(z));
    if (near_news && !snapshot_.roster(z).empty()) parts.rosters.emplace_back(snapshot_.zone_name(z), snapshot_.roster(z));
  }
  send_(connection, state_message(parts), false);
  if (far) s.far_sent_at = ticks_;
  s.has_cards = true;
  s.near = std::move(near);
  s.last_you = std::move(you);
}

}  // namespace confab::game
