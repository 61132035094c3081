#include "native_host/relay.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <set>
#include <sstream>

#include "api/api_json.h"
#include "native_host/frames.h"
#include "service/api/api_server.h"
#include "service/api/command_table.h"
#include "service/api/event_hub.h"
#include "service/paths.h"
#include "service/service_config.h"

namespace confab::native_host {

namespace {

api::ApiMessage error_result(int code, const std::string& reason, const std::string& tag) {
  return service::result(tag, code, reason);
}

// What `Subscribe` may ask for: the event kinds the service gives web pages
// (the service refuses the others to web pages; the host is a local program
// to the service, so it checks here).
bool web_may_follow(const std::string& kinds) {
  std::istringstream words(kinds);
  for (std::string w; words >> w;)
    if (!service::EventHub::web_may_follow(w)) return false;
  return true;
}

}  // namespace

RelaySettings relay_settings(const std::string& config_file) {
  service::ServiceConfig config;
  std::string file = config_file;
  struct stat st{};
  if (file.empty() && ::stat(service::default_config_path().c_str(), &st) == 0) file = service::default_config_path();
  if (!file.empty()) service::load_service_config(file, config);
  RelaySettings s;
  s.socket_path = config.api_socket.empty() ? service::runtime_dir() + "/service.sock" : config.api_socket;
  return s;
}

std::string error_json(int code, const std::string& reason, const std::string& tag) {
  return api::to_json(error_result(code, reason, tag));
}

Relay::Relay(RelaySettings settings) : settings_(std::move(settings)) {}

std::vector<std::string> Relay::answer(std::string_view json) {
  api::ApiMessage request;
  std::string why;
  if (!api::from_json(json, request, &why)) {
    spdlog::warn("native-host: malformed request ({} bytes): {}", json.size(), why);
    return {error_json(400, "malformed request: " + why)};
  }
  std::vector<std::string> out;
  auto result = relay(request);
  // Events the service sent while we waited (after a Subscribe), in order, then the Result.
  while (service_ && !service_->closed())
    if (auto event = service_->next(std::chrono::milliseconds(0))) out.push_back(api::to_json(*event));
    else break;
  out.push_back(api::to_json(result));
  for (auto& frame : out)
    if (frame.size() > kMaxToBrowser) {
      spdlog::warn("native-host: an answer of {} bytes is over the 1 MB native messaging limit", frame.size());
      frame = error_json(502, "the service's answer (" + std::to_string(frame.size()) +
                                  " bytes) is over the 1 MB limit of native messaging", request.attr("tag"));
    }
  return out;
}

api::ApiMessage Relay::relay(const api::ApiMessage& request) {
  const std::string tag = request.attr("tag");
  if (!service::CommandTable::web_may_call(request.name) ||
      (request.name == "Subscribe" && !web_may_follow(request.attr("events")))) {
    spdlog::warn("native-host: <{}> refused: not a command web pages may use", request.name);
    return error_result(403, "<" + request.name + "> is not available to the browser extension", tag);
  }
  if (!service_) {
    try {
      service_.emplace(api::ApiClient::unix_socket(settings_.socket_path));
    } catch (const std::exception& e) {
      spdlog::warn("native-host: no service: {}", e.what());
      return error_result(503, std::string("the Confab service is not running: ") + e.what(), tag);
    }
  }
  spdlog::info("native-host: <{}> {}", request.name, request.attr("id"));
  auto started = std::chrono::steady_clock::now();
  auto result = service_->call(request, settings_.timeout);
  if (result) {
    spdlog::info("native-host: <{}> -> {} {}", request.name, result->attr("code"), result->attr("reason"));
    return *result;
  }
  bool gone = service_->closed() || service_->failed() ||
              std::chrono::steady_clock::now() - started < settings_.timeout;  // not a timeout: the connection broke
  service_.reset();  // next request: connect again
  if (gone) {
    spdlog::warn("native-host: the service closed the connection during <{}>", request.name);
    return error_result(503, "the Confab service went away before answering", tag);
  }
  spdlog::warn("native-host: no answer to <{}> within {} s", request.name, settings_.timeout.count() / 1000);
  return error_result(504, "no answer from the Confab service within " +
                               std::to_string(settings_.timeout.count() / 1000) + " s", tag);
}

}  // namespace confab::native_host
