#include "service/calls/roster_watch.h"

namespace confab::service {

RosterWatch::RosterWatch(sip::UserAgent& ua, std::string conference, std::string call_id, OnEvent on_event)
    : conference_(std::move(conference)), call_id_(std::move(call_id)), on_event_(std::move(on_event)) {
  subscription_ = std::make_unique<conference_events::ConferenceSubscription>(
      ua, conference_, [this](const std::vector<conference_events::RosterMember>& members) { changed(members); });
}

RosterWatch::~RosterWatch() = default;

void RosterWatch::changed(const std::vector<conference_events::RosterMember>& members) {
  std::map<std::string, std::string> now;
  for (auto& m : members) now[m.entity] = m.display_text;
  api::ApiMessage event("Roster");
  event.set("conference", conference_).set("call", call_id_);
  for (auto& [uri, name] : now)
    if (!members_.count(uri)) event.add(api::ApiMessage("Joined").set("uri", uri).set("name", name));
  for (auto& [uri, name] : members_)
    if (!now.count(uri)) event.add(api::ApiMessage("Left").set("uri", uri).set("name", name));
  members_ = std::move(now);
  if (!event.children.empty()) on_event_(event);
}

void RosterWatch::leave() {
  if (members_.empty()) return;
  api::ApiMessage event("Roster");
  event.set("conference", conference_).set("call", call_id_);
  for (auto& [uri, name] : members_) event.add(api::ApiMessage("Left").set("uri", uri).set("name", name));
  members_.clear();
  on_event_(event);
}

api::ApiMessage RosterWatch::snapshot() const {
  api::ApiMessage r("Roster");
  r.set("conference", conference_).set("call", call_id_);
  for (auto& [uri, name] : members_) r.add(api::ApiMessage("Member").set("uri", uri).set("name", name));
  return r;
}

}  // namespace confab::service
