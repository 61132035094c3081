#include "service/calls/roster_watch.h"

#include <spdlog/spdlog.h>

#include "conference_events/conference_info.h"

namespace confab::service {

RosterWatch::RosterWatch(sip::UserAgent& ua, std::string conference, std::string call_id, OnEvent on_event)
    : conference_(std::move(conference)), call_id_(std::move(call_id)), on_event_(std::move(on_event)) {
  subscriber_ = ua.subscribe(conference_, "conference", kExpires, *this, conference_events::kContentType);
}

RosterWatch::~RosterWatch() = default;

void RosterWatch::on_notify(sip::Subscriber& subscriber, const sip::Message& notify) {
  if (notify.body().empty()) return;  // e.g. the pending state before the first document
  std::string error;
  auto info = conference_events::parse(notify.body(), &error);
  if (!info) {
    spdlog::warn("roster {}: unreadable conference-info ({}), ignored", conference_, error);
    return;
  }
  auto outcome = roster_.apply(*info);
  if (outcome == conference_events::Roster::Outcome::NeedsResync) {
    spdlog::info("roster {}: version gap, asking for full state", conference_);
    subscriber.refresh();
    return;
  }
  if (outcome != conference_events::Roster::Outcome::Applied) return;

  std::map<std::string, std::string> now;
  for (auto& m : roster_.members()) now[m.entity] = m.display_text;
  api::ApiMessage event("Roster");
  event.set("conference", conference_).set("call", call_id_);
  for (auto& [uri, name] : now)
    if (!members_.count(uri)) event.add(api::ApiMessage("Joined").set("uri", uri).set("name", name));
  for (auto& [uri, name] : members_)
    if (!now.count(uri)) event.add(api::ApiMessage("Left").set("uri", uri).set("name", name));
  members_ = std::move(now);
  if (!event.children.empty()) on_event_(event);
}

void RosterWatch::on_ended(sip::Subscriber& subscriber, int status, std::string_view why) {
  spdlog::debug("roster {}: subscription ended ({} {})", conference_, status, why);
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
