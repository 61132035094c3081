// Who is in the voice room as the room is told: each roster the conference
// event package reports (RFC 4575) is compared with the last one, and the
// difference becomes "NAME left the voice room" / "NAME joined the voice room"
// lines, in that order within one change. A member keeps the name it joined
// under, so its "left" line matches its "joined" line.
#pragma once

#include <string>
#include <vector>

#include "conference_events/roster.h"

namespace confab::chat {

struct VoiceMember {
  std::string entity;  // the participant's SIP URI (the roster's key)
  std::string name;    // what the room calls it (already made safe with room_text)
};

class VoiceRoster {
 public:
  // The members now (any order); returns the lines to post for the change.
  std::vector<std::string> update(const std::vector<VoiceMember>& now);
  // Everyone left (the conference ended): their "left" lines.
  std::vector<std::string> clear() { return update({}); }
  // Names in the order they joined.
  std::vector<std::string> names() const;
  bool empty() const { return members_.empty(); }
  const std::vector<VoiceMember>& members() const { return members_; }

  static std::string joined_line(const std::string& name) { return name + " joined the voice room"; }
  static std::string left_line(const std::string& name) { return name + " left the voice room"; }

 private:
  std::vector<VoiceMember> members_;  // in join order
};

// Whether a roster member is in the voice room for the chat: connected (also on hold or muted),
// or with no status given; not while the conference is still calling it (pending, dialing,
// alerting) or it is hanging up.
bool in_voice_room(const conference_events::RosterMember& member);

// "In the voice room standup: Alice, Bob" or "Nobody is in the voice room standup."
std::string who_line(const std::string& room_name, const std::vector<std::string>& names);

}  // namespace confab::chat
