// The subscriber side of the conference event package: who is in a conference,
// kept up to date from full and partial conference-info notifications
// (RFC 4575 section 4.6), with the version rules that tell the caller when its
// view has a gap and it must re-SUBSCRIBE for a full state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "conference_events/conference_info.h"

namespace confab::conference_events {

struct RosterMember {
  std::string entity;
  std::string display_text;
  std::optional<EndpointStatus> status;  // of the first endpoint that has one
};

class Roster {
 public:
  enum class Outcome {
    Applied,
    Ignored,      // version <= current: a duplicate or an old notification (or a root state="deleted")
    NeedsResync,  // partial with a version gap, before any full state, or for another conference:
                  // the caller should re-SUBSCRIBE; the roster is unchanged
  };

  // A full document replaces everything when there is no state yet or its
  // version is newer. A partial document applies only at version == current+1:
  // users (and their endpoints) with state="deleted" are removed, "full"
  // replaces the one with that entity, "partial" merges into it (fields that
  // are present overwrite, absent ones are kept).
  Outcome apply(const ConferenceInfo& info);

  uint32_t version() const { return version_; }
  bool has_state() const { return has_state_; }
  const std::string& conference() const { return conference_; }  // the conference's entity
  // Users currently in the conference, sorted by entity. A user whose endpoints
  // are all "disconnected" is not a member; one with no endpoints listed is.
  std::vector<RosterMember> members() const;
  std::optional<uint32_t> user_count() const { return user_count_; }

 private:
  void replace_all(const ConferenceInfo& info);
  void apply_partial(const ConferenceInfo& info);

  bool has_state_ = false;
  uint32_t version_ = 0;
  std::string conference_;
  std::optional<uint32_t> user_count_;
  std::map<std::string, User> users_;  // by entity
};

}  // namespace confab::conference_events
