#include "chat/voice_roster.h"

#include <algorithm>
#include <set>

namespace confab::chat {

std::vector<std::string> VoiceRoster::update(const std::vector<VoiceMember>& now) {
  std::set<std::string> now_entities;
  for (auto& m : now) now_entities.insert(m.entity);
  std::vector<std::string> lines;
  std::vector<VoiceMember> kept;
  for (auto& m : members_) {
    if (now_entities.count(m.entity)) {
      kept.push_back(m);
    } else {
      lines.push_back(left_line(m.name));
    }
  }
  std::set<std::string> known;
  for (auto& m : kept) known.insert(m.entity);
  std::vector<VoiceMember> arrived;
  for (auto& m : now)
    if (known.insert(m.entity).second) arrived.push_back(m);
  std::stable_sort(arrived.begin(), arrived.end(),
                   [](const VoiceMember& a, const VoiceMember& b) { return a.name < b.name; });
  for (auto& m : arrived) {
    lines.push_back(joined_line(m.name));
    kept.push_back(m);
  }
  members_ = std::move(kept);
  return lines;
}

std::vector<std::string> VoiceRoster::names() const {
  std::vector<std::string> out;
  for (auto& m : members_) out.push_back(m.name);
  return out;
}

bool in_voice_room(const conference_events::RosterMember& member) {
  using conference_events::EndpointStatus;
  if (!member.status) return true;
  switch (*member.status) {
    case EndpointStatus::Connected:
    case EndpointStatus::OnHold:
    case EndpointStatus::MutedViaFocus: return true;
    default: return false;
  }
}

std::string who_line(const std::string& room_name, const std::vector<std::string>& names) {
  if (names.empty()) return "Nobody is in the voice room " + room_name + ".";
  std::string line = "In the voice room " + room_name + ": ";
  for (size_t i = 0; i < names.size(); ++i) line += (i ? ", " : "") + names[i];
  return line;
}

}  // namespace confab::chat
