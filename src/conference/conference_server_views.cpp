// What ConferenceServer shows of itself: JSON for the admin API and `confab ctl`
// (GET /conferences and /conferences/<id>, docs/api.md) and its metrics (GET /metrics).
#include <boost/json.hpp>

#include "conference/conference_server.h"
#include "http/metrics_page.h"

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

void ConferenceServer::add_metrics(http::MetricsPage& page) const {
  http::add_sip_message_counts(page, ua_->message_counts());
  uint64_t notifies = counters_.notifies_of_closed;
  size_t subscriptions = 0;
  for (auto& [id, r] : rooms_) {
    notifies += r->notifies_sent();
    subscriptions += r->subscribers();
  }
  size_t connected = 0;
  for (auto& [id, p] : participants_) connected += p->connected() && !p->leaving();
  page.counter("confab_conference_conferences_created_total", "conferences created", counters_.conferences_created);
  page.counter("confab_conference_participants_joined_total", "participants connected", counters_.joined);
  page.counter("confab_conference_participants_left_total", "participants gone (hung up, refused, failed)",
               counters_.left);
  page.counter("confab_conference_notifies_total", "conference event NOTIFYs sent (RFC 4575)", notifies);
  page.gauge("confab_conference_conferences", "conferences now", static_cast<double>(rooms_.size()));
  page.gauge("confab_conference_participants", "participants now, by state", static_cast<double>(connected),
             {{"state", "connected"}});
  page.gauge("confab_conference_participants", "participants now, by state",
             static_cast<double>(participants_.size() - connected), {{"state", "connecting"}});
  page.gauge("confab_conference_subscriptions", "conference event subscriptions now", static_cast<double>(subscriptions));
}

}  // namespace confab::conference
