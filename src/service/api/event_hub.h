// Who gets which events: the event kinds the service offers ("calls",
// "roster", "choices", and those of the Tunnel and plugins) and the
// connections subscribed to each (<Subscribe events="..">). Web pages may
// follow calls and rosters only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "api/api_message.h"

namespace confab::service {

class ApiConnection;

class EventHub {
 public:
  EventHub();
  void add_kind(const std::string& kind) { kinds_.insert(kind); }
  bool has_kind(const std::string& kind) const { return kinds_.count(kind) > 0; }
  // The event kinds web pages (and the browser extension's native host) may follow.
  static bool web_may_follow(const std::string& kind) { return kind == "calls" || kind == "roster"; }
  const std::set<std::string>& kinds() const { return kinds_; }

  // Replaces what `client` is subscribed to ("" kinds: nothing). False, with
  // nothing changed, if a web page asks for kinds only local programs get.
  bool subscribe(const std::shared_ptr<ApiConnection>& client, const std::set<std::string>& kinds);
  void forget(const ApiConnection& client);  // it disconnected
  // Sends `event` to every client subscribed to `kind`.
  void publish(const std::string& kind, const api::ApiMessage& event) const;
  bool has_subscriber(const std::string& kind) const;

 private:
  struct Client {
    std::shared_ptr<ApiConnection> connection;
    std::set<std::string> kinds;
  };
  std::set<std::string> kinds_;
  std::map<uint64_t, Client> clients_;  // by connection id
};

}  // namespace confab::service
