#include "service/api/event_hub.h"

#include "service/api/api_server.h"
#include "service/api/command_table.h"

namespace confab::service {

EventHub::EventHub() : kinds_{"calls", "roster", "choices"} {}

bool EventHub::subscribe(const std::shared_ptr<ApiConnection>& client, const std::set<std::string>& kinds) {
  if (from_web_page(*client))
    for (auto& k : kinds)
      if (!web_may_follow(k)) return false;
  if (kinds.empty())
    clients_.erase(client->id());
  else
    clients_[client->id()] = Client{client, kinds};
  return true;
}

void EventHub::forget(const ApiConnection& client) { clients_.erase(client.id()); }

void EventHub::publish(const std::string& kind, const api::ApiMessage& event) const {
  for (auto& [id, c] : clients_)
    if (c.kinds.count(kind)) c.connection->send(event);
}

bool EventHub::has_subscriber(const std::string& kind) const {
  for (auto& [id, c] : clients_)
    if (c.kinds.count(kind)) return true;
  return false;
}

}  // namespace confab::service
