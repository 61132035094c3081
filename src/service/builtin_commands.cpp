// The built-in API commands (docs/api.md), as a command table in baresip's
// manner: one function per element, which parses it and calls the service.
// The Tunnel's and plugins' commands register in the same CommandTable.
#include <sstream>

#include "base/log.h"
#include "service/client_service.h"

namespace confab::service {

namespace {

using Message = api::ApiMessage;

// The attribute, or an error reply naming it.
bool required(const Message& m, const char* key, const Reply& reply, std::string& out) {
  out = m.attr(key);
  if (!out.empty()) return true;
  reply.error(400, "<" + m.name + "> needs " + key + "=\"..\"");
  return false;
}

// <Join id=".." [mode="loop|transfer"]>[<Use dev=".."/>]</Join>
void join(ClientService& service, const Message& m, const Reply& reply) {
  ClientService::JoinRequest r;
  if (!required(m, "id", reply, r.target)) return;
  auto uses = m.all("Use");
  if (uses.size() > 1) return reply.error(400, "<Join> takes one <Use dev=\"..\"/>");
  if (!uses.empty() && !required(*uses[0], "dev", reply, r.device)) return;
  std::string mode = m.attr("mode");
  if (mode == "loop") r.mode = CallMode::Loop;
  else if (mode == "transfer") r.mode = CallMode::Transfer;
  else if (!mode.empty()) return reply.error(400, "mode must be loop or transfer, not '" + mode + "'");
  service.join(r, reply);
}

void external_join(ClientService& service, const Message& m, const Reply& reply) {
  std::string target;
  if (required(m, "id", reply, target)) service.external_join(target, reply);
}

void same_device_join(ClientService& service, const Message& m, const Reply& reply) {
  std::string target;
  if (required(m, "id", reply, target)) service.same_device_join(target, reply);
}

// <Choose choice="k1" dev=".."/> or <Choose choice="k1" decline="true"/>
void choose(ClientService& service, const Message& m, const Reply& reply) {
  std::string choice, dev;
  if (!required(m, "choice", reply, choice)) return;
  bool decline = m.attr("decline") == "true";
  if (!decline && !required(m, "dev", reply, dev)) return;
  service.chooser().choose(choice, decline ? "" : dev, reply);
}

void approve(ClientService& service, const Message& m, const Reply& reply) {
  std::string origin;
  if (required(m, "origin", reply, origin)) service.approve_origin(origin, m.attr("revoke") != "true", reply);
}

void state(ClientService& service, const Message&, const Reply& reply) { reply.ok("OK", {}, {service.state()}); }

// <Invite><Add id=".."/>...</Invite>
void invite(ClientService& service, const Message& m, const Reply& reply) {
  std::vector<std::string> uris;
  for (auto* add : m.all("Add")) {
    std::string id;
    if (!required(*add, "id", reply, id)) return;
    uris.push_back(id);
  }
  service.invite(uris, reply);
}

void hangup(ClientService& service, const Message& m, const Reply& reply) { service.hangup(m.attr("call"), reply); }

void calls(ClientService& service, const Message&, const Reply& reply) {
  auto list = service.calls().list();
  reply.ok("OK", {{"count", std::to_string(list.children.size())}}, {list});
}

void devices(ClientService& service, const Message&, const Reply& reply) {
  auto list = service.devices().describe();
  reply.ok("OK", {{"count", std::to_string(list.children.size())}}, {list});
}

// <Subscribe events="calls roster ..."/>; no kinds: unsubscribe.
void subscribe(ClientService& service, const Message& m, const Reply& reply) {
  std::set<std::string> events;
  std::istringstream words(m.attr("events"));
  for (std::string w; words >> w;) {
    if (!service.events().has_kind(w)) {
      std::string known;
      for (auto& k : service.events().kinds()) known += (known.empty() ? "" : ", ") + k;
      return reply.error(400, "unknown event kind '" + w + "' (" + known + ")");
    }
    events.insert(w);
  }
  if (!service.events().subscribe(reply.connection(), events))
    return reply.error(403, "web pages get calls and roster events only");
  reply.ok(events.empty() ? "unsubscribed" : "subscribed");
  // A new roster subscriber (a page that just opened) first hears who is in each conference now.
  if (events.count("roster"))
    for (auto roster : service.calls().rosters()) {
      for (auto& member : roster.children) member.name = "Joined";
      if (!roster.children.empty()) reply.connection()->send(roster);
    }
}

// What a page or the browser extension needs to know of this service's settings:
// the conference server of ad-hoc conferences (conf:NAME -> sip:NAME@<it>).
void settings(ClientService& service, const Message&, const Reply& reply) {
  reply.ok("OK", {{"conference_server", service.config().conference_server}});
}

// Authentication is for TCP, where the transport checks it first; elsewhere it is a no-op.
void auth(ClientService&, const Message&, const Reply& reply) { reply.ok("no authentication needed"); }

// <LogLevel/> says the service's log level, <LogLevel level="debug"/> sets it
// (`confab ctl service log-level`): only on the local Unix socket, where only the
// user gets; never for web pages (CommandTable::web_may_call) or TCP clients.
void log_level(ClientService&, const Message& m, const Reply& reply) {
  if (reply.connection()->peer() != "unix")
    return reply.error(403, "<LogLevel> is only for the service's Unix socket (confab ctl service log-level)");
  std::string name = m.attr("level");
  if (!name.empty()) {
    auto level = base::parse_log_level(name);
    if (!level) return reply.error(400, "'" + name + "' is not a log level (" + std::string(base::kLogLevelNames) + ")");
    spdlog::set_level(*level);
    spdlog::info("log level set to {} (API <LogLevel>)", name);
  }
  auto now = spdlog::level::to_string_view(spdlog::get_level());
  reply.ok("OK", {{"level", std::string(now.data(), now.size())}});
}

using Handler = void (*)(ClientService&, const Message&, const Reply&);
const std::pair<const char*, Handler> kCommands[] = {
    {"Join", join},     {"ExternalJoin", external_join}, {"SameDeviceJoin", same_device_join},
    {"Choose", choose}, {"Approve", approve},            {"State", state},
    {"Invite", invite}, {"Hangup", hangup},              {"Calls", calls},
    {"Devices", devices}, {"Subscribe", subscribe},      {"Auth", auth},
    {"Settings", settings}, {"LogLevel", log_level},
};

}  // namespace

void add_builtin_commands(ClientService& service) {
  for (auto& command : kCommands)
    service.commands().add(command.first, [&service, handler = command.second](const Message& m, const Reply& reply) {
      handler(service, m, reply);
    });
}

}  // namespace confab::service
