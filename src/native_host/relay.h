// The relay behind `confab native-host`: each request the browser extension sends
// (the JSON twin of an API message, docs/api.md) goes to the service's Unix socket
// if it is one of the call commands approved web pages may use
// (service::CommandTable::web_may_call); anything else gets 403, unreadable JSON
// 400, a missing or vanished service 503, no answer in time 504.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_client.h"
#include "api/api_message.h"

namespace confab::native_host {

struct RelaySettings {
  std::string socket_path;        // the service's API socket
  std::chrono::milliseconds timeout = std::chrono::seconds(180);  // a Join rings; an ExternalJoin waits for a choice
};

// From the service's configuration file (`config_file`, or ~/.config/confab/service.toml
// when "" and it exists) and its defaults: where the socket is.
RelaySettings relay_settings(const std::string& config_file);

// {"type":"Result","tag":TAG,"status":"error","code":CODE,"reason":REASON} as JSON.
std::string error_json(int code, const std::string& reason, const std::string& tag = {});

class Relay {
 public:
  explicit Relay(RelaySettings settings);
  // The frames to send back for one request: events the service sent before the
  // answer, then the request's Result (each within the 1 MB a frame may carry).
  std::vector<std::string> answer(std::string_view json);

 private:
  api::ApiMessage relay(const api::ApiMessage& request);
  RelaySettings settings_;
  std::optional<api::ApiClient> service_;  // connected on first use, again after the service went away
};

}  // namespace confab::native_host
