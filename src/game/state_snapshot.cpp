#include "game/state_snapshot.h"

namespace confab::game {

namespace {

void append(std::string& list, const std::string& item) {
  if (!list.empty()) list += ',';
  list += item;
}

}  // namespace

StateSnapshot::StateSnapshot(const World& world) : world_(world), zones_(world.zones.size()) {}

void StateSnapshot::update(uint64_t tick, const std::vector<const Player*>& players,
                           const std::map<std::string, VoiceStatus>& statuses, const Rosters& rosters) {
  tick_ = tick;
  changed_cards_.clear();
  left_.clear();
  std::vector<std::vector<Position>> positions(zones_.size());
  for (const Player* p : players) {
    auto status = statuses.find(p->id);
    std::string json = player_card({p->id, p->name, status == statuses.end() ? "off" : status->second.state});
    auto [it, added] = cards_.try_emplace(p->id);
    if (added) order_.push_back(p->id);
    if (added || it->second.json != json) append(changed_cards_, json);
    it->second = {std::move(json), tick};
    positions[zone_index(p->zone)].push_back({p->id, p->x, p->y});
  }
  std::vector<std::string> still;
  for (auto& id : order_) {
    if (cards_.at(id).seen == tick) {
      still.push_back(std::move(id));
    } else {
      append(left_, "\"" + id + "\"");  // ids are "p<number>": nothing to escape
      cards_.erase(id);
    }
  }
  order_ = std::move(still);
  for (size_t z = 0; z < zones_.size(); ++z) {
    auto roster = rosters.find(world_.zones[z].name);
    std::string now_positions = zone_positions(positions[z]);
    std::string now_roster = roster == rosters.end() ? "" : roster_json(roster->second);
    ZoneState& zone = zones_[z];
    if (now_positions != zone.positions || now_roster != zone.roster || zone.changed_at == 0)
      zone = {std::move(now_positions), std::move(now_roster), tick};
  }
}

const std::string& StateSnapshot::all_cards() {
  if (all_cards_tick_ != tick_) {
    all_cards_.clear();
    for (auto& id : order_) append(all_cards_, cards_.at(id).json);
    all_cards_tick_ = tick_;
  }
  return all_cards_;
}

}  // namespace confab::game
