#include "web/rosters.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "sip/uri.h"

namespace confab::web {

struct Rosters::Room {
  std::string conference;
  std::unique_ptr<conference_events::ConferenceSubscription> subscription;
  std::vector<conference_events::RosterMember> members;
  struct Viewer {
    std::shared_ptr<http::WebSocket> socket;
    std::string path;
  };
  std::map<uint64_t, Viewer> viewers;
  Clock::time_point empty_since, retry_at;
  std::chrono::milliseconds backoff{0};
  bool told_failing = false;  // a failure was logged at warn level; the next ones at debug
};

std::string roster_json(const std::string& path, const std::string& conference,
                        const std::vector<conference_events::RosterMember>& members) {
  boost::json::array list;
  for (auto& m : members) {
    std::string name = m.display_text;
    if (name.empty())
      if (auto u = sip::Uri::parse(m.entity)) name = u->user_unescaped();
    if (name.empty()) name = m.entity;
    list.push_back({{"uri", m.entity},
                    {"name", name},
                    {"status", m.status ? std::string(conference_events::status_name(*m.status)) : "connected"}});
  }
  boost::json::object o{{"type", "roster"}, {"path", path}, {"conference", conference}, {"members", std::move(list)}};
  return boost::json::serialize(o);
}

Rosters::Rosters(sip::EventLoop& loop, sip::UserAgent& ua, Timing timing)
    : loop_(loop), ua_(ua), timing_(timing), maintenance_(loop) {
  maintenance_.every(std::chrono::milliseconds(100), [this] { maintain(); });
}

Rosters::~Rosters() {
  maintenance_.cancel();
  rooms_.clear();  // un-SUBSCRIBEs
}

void Rosters::add_viewer(const std::shared_ptr<http::WebSocket>& viewer, const std::string& path,
                         const std::string& conference) {
  auto& room = rooms_[conference];
  if (!room) {
    room = std::make_unique<Room>();
    room->conference = conference;
  }
  room->viewers[viewer->id()] = {viewer, path};
  viewer_rooms_[viewer->id()] = conference;
  viewer->send(roster_json(path, conference, room->members));
  if (!room->subscription) subscribe(*room);
}

void Rosters::remove_viewer(uint64_t viewer_id) {
  auto it = viewer_rooms_.find(viewer_id);
  if (it == viewer_rooms_.end()) return;
  auto room = rooms_.find(it->second);
  viewer_rooms_.erase(it);
  if (room == rooms_.end()) return;
  room->second->viewers.erase(viewer_id);
  if (room->second->viewers.empty()) room->second->empty_since = Clock::now();
}

size_t Rosters::subscriptions() const {
  return static_cast<size_t>(
      std::count_if(rooms_.begin(), rooms_.end(), [](auto& r) { return r.second->subscription != nullptr; }));
}

void Rosters::subscribe(Room& room) {
  // The first time at info; tries again after a refusal (404 until someone is in the conference) at debug.
  spdlog::log(room.backoff.count() ? spdlog::level::debug : spdlog::level::info, "web: subscribing to {} (viewers: {})",
              room.conference, room.viewers.size());
  room.subscription = std::make_unique<conference_events::ConferenceSubscription>(
      ua_, room.conference,
      [this, conference = room.conference](const auto& members) { changed(conference, members); },
      [this, conference = room.conference](int status, std::string_view why) { ended(conference, status, why); });
}

void Rosters::changed(const std::string& conference, const std::vector<conference_events::RosterMember>& members) {
  auto it = rooms_.find(conference);
  if (it == rooms_.end()) return;
  Room& room = *it->second;
  room.backoff = std::chrono::milliseconds(0);
  room.told_failing = false;
  room.members = members;
  push(room);
}

// Called by the subscription itself: it is replaced later, in maintain().
void Rosters::ended(const std::string& conference, int status, std::string_view why) {
  auto it = rooms_.find(conference);
  if (it == rooms_.end()) return;
  Room& room = *it->second;
  room.backoff = std::clamp(room.backoff * 2, timing_.first_retry, timing_.max_retry);
  room.retry_at = Clock::now() + room.backoff;
  bool normal = status == 404 || status < 300;  // nobody there yet, or the last one left
  if (normal || room.told_failing)
    spdlog::debug("web: subscription to {} ended ({} {}), again in {} ms", conference, status, why,
                  room.backoff.count());
  else
    spdlog::warn("web: subscription to {} failed ({} {}), trying again in {} ms", conference, status, why,
                 room.backoff.count());
  room.told_failing = room.told_failing || !normal;
  if (!room.members.empty()) {
    room.members.clear();  // nothing known any more
    push(room);
  }
}

void Rosters::push(const Room& room) const {
  std::map<std::string, std::string> by_path;  // one message per page, shared by its viewers
  for (auto& [id, v] : room.viewers) {
    auto& text = by_path[v.path];
    if (text.empty()) text = roster_json(v.path, room.conference, room.members);
    v.socket->send(text);
  }
}

void Rosters::maintain() {
  auto now = Clock::now();
  for (auto it = rooms_.begin(); it != rooms_.end();) {
    Room& room = *it->second;
    if (room.viewers.empty() && now - room.empty_since >= timing_.linger) {
      spdlog::info("web: unsubscribing from {} (no viewers for {} ms)", room.conference, timing_.linger.count());
      it = rooms_.erase(it);
      continue;
    }
    if (!room.viewers.empty() && room.subscription && room.subscription->ended() && now >= room.retry_at) {
      room.subscription.reset();
      subscribe(room);
    }
    ++it;
  }
}

}  // namespace confab::web
