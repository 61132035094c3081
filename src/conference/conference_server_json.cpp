// ConferenceServer's JSON views for the admin API (GET /conferences and
// /conferences/<id>, docs/api.md).
#include <boost/json.hpp>

#include "conference/conference_server.h"

namespace confab::conference {

namespace {

boost::json::array listening_json(const Participant& p) {
  boost::json::array out;
  for (const auto& [conference, db] : p.listening()) out.push_back({{"conference", conference}, {"db", db}});
  return out;
}

boost::json::object room_json(const ConferenceRoom& r) {
  boost::json::array people;
  for (auto& [id, p] : r.participants())
    people.push_back({{"id", id},
                      {"uri", p->uri()},
                      {"display", p->display()},
                      {"contact", p->contact()},
                      {"connected", p->connected()},
                      {"on_hold", p->on_hold()},
                      {"muted", p->muted()},
                      {"joining", p->joining() == Participant::Joining::DialedOut ? "dialed-out" : "dialed-in"},
                      {"listening", listening_json(*p)}});
  return {{"id", r.id()},
          {"uri", r.uri()},
          {"participants", std::move(people)},
          {"subscribers", r.subscribers()},
          {"notifies_sent", r.notifies_sent()}};
}

}  // namespace

std::string ConferenceServer::conferences_json() const {
  boost::json::array rooms;
  for (auto& [id, r] : rooms_) rooms.push_back(room_json(*r));
  return boost::json::serialize(boost::json::object{{"conferences", std::move(rooms)}});
}

std::optional<std::string> ConferenceServer::conference_json(const std::string& id) const {
  auto it = rooms_.find(id);
  if (it == rooms_.end()) return std::nullopt;
  return boost::json::serialize(room_json(*it->second));
}

}  // namespace confab::conference
