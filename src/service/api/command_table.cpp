#include "service/api/command_table.h"

#include <spdlog/spdlog.h>

#include <set>

#include "service/api/api_server.h"

namespace confab::service {

bool from_web_page(const ApiConnection& connection) { return connection.peer().rfind("web:", 0) == 0; }

std::string web_origin(const ApiConnection& connection) {
  return from_web_page(connection) ? connection.peer().substr(4) : std::string();
}

bool CommandTable::web_may_call(const std::string& name) {
  static const std::set<std::string> kWebCommands = {"Join",  "ExternalJoin", "SameDeviceJoin", "Invite", "Hangup",
                                                     "Calls", "Devices",      "Subscribe",      "Auth",
                                                     "Settings"};
  return kWebCommands.count(name) > 0;
}

bool CommandTable::add(const std::string& name, Command command) {
  return commands_.emplace(name, std::move(command)).second;
}

std::vector<std::string> CommandTable::names() const {
  std::vector<std::string> out;
  for (auto& [name, _] : commands_) out.push_back(name);
  return out;
}

void CommandTable::dispatch(const std::shared_ptr<ApiConnection>& from, const api::ApiMessage& message) const {
  Reply reply(from, message.attr("tag"));
  auto it = commands_.find(message.name);
  if (it == commands_.end()) {
    spdlog::info("api {}: unknown command <{}>", from->peer(), message.name);
    std::string known;
    for (auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    return reply.error(501, "unknown command <" + message.name + ">; known: " + known);
  }
  if (from_web_page(*from) && !web_may_call(message.name)) {
    spdlog::warn("api {}: <{}> refused to a web page", from->peer(), message.name);
    return reply.error(403, "<" + message.name + "> is not available to web pages");
  }
  try {
    it->second(message, reply);
  } catch (const std::exception& e) {
    spdlog::error("api {}: <{}> failed: {}", from->peer(), message.name, e.what());
    reply.error(500, e.what());
  }
}

}  // namespace confab::service
