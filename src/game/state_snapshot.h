// What the clients may be sent after a tick, each piece written once and
// shared by every state message that carries it: the players' cards that
// changed (and who left), and each zone's positions and roster with the tick
// they last changed. Game puts each client's state together from these.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "game/protocol.h"
#include "game/simulation.h"

namespace confab::game {

class StateSnapshot {
 public:
  explicit StateSnapshot(const World& world);

  // Takes the world as it is after tick number `tick`.
  void update(uint64_t tick, const std::vector<const Player*>& players,
              const std::map<std::string, VoiceStatus>& statuses, const Rosters& rosters);

  // Cards new or changed by the last update, and the ids of players who left
  // (quoted, joined by ','; "" when none).
  const std::string& changed_cards() const { return changed_cards_; }
  const std::string& left() const { return left_; }
  // Every player's card: a client's first state. Written when first asked, once a tick.
  const std::string& all_cards();

  size_t zone_count() const { return zones_.size(); }
  size_t zone_index(const Zone* zone) const { return static_cast<size_t>(zone - world_.zones.data()); }
  const std::string& zone_name(size_t zone) const { return world_.zones[zone].name; }
  const std::string& positions(size_t zone) const { return zones_[zone].positions; }
  // "" when the voice has no roster for the zone.
  const std::string& roster(size_t zone) const { return zones_[zone].roster; }
  // The tick its positions or roster last changed.
  uint64_t changed_at(size_t zone) const { return zones_[zone].changed_at; }

 private:
  struct Card {
    std::string json;
    uint64_t seen = 0;  // the last update that had the player
  };
  struct ZoneState {
    std::string positions, roster;
    uint64_t changed_at = 0;
  };
  const World& world_;
  std::unordered_map<std::string, Card> cards_;  // by player id
  std::vector<std::string> order_;               // ids in the order they joined
  std::string changed_cards_, left_, all_cards_;
  uint64_t all_cards_tick_ = UINT64_MAX, tick_ = 0;
  std::vector<ZoneState> zones_;
};

}  // namespace confab::game
