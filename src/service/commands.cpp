// The built-in API commands (docs/api.md): each parses its element and calls
// the service. New commands (plugins) register the same way.
#include <sstream>

#include "service/client_service.h"

namespace confab::service {

namespace {

std::optional<CallMode> mode_of(const api::ApiMessage& m) {
  std::string mode = m.attr("mode");
  if (mode.empty()) return std::nullopt;
  if (mode == "loop") return CallMode::Loop;
  if (mode == "transfer") return CallMode::Transfer;
  throw std::invalid_argument("mode must be loop or transfer, not '" + mode + "'");
}

// The attribute, or an error reply naming it.
bool required(const api::ApiMessage& m, const char* key, const Reply& reply, std::string& out) {
  out = m.attr(key);
  if (!out.empty()) return true;
  reply.error(400, "<" + m.name + "> needs " + key + "=\"..\"");
  return false;
}

}  // namespace

void add_builtin_commands(ClientService& service) {
  service.add_command("Join", [&service](const api::ApiMessage& m, const Reply& reply) {
    ClientService::JoinRequest r;
    if (!required(m, "id", reply, r.target)) return;
    auto uses = m.all("Use");
    if (uses.size() > 1) return reply.error(400, "<Join> takes one <Use dev=\"..\"/>");
    if (!uses.empty() && !required(*uses[0], "dev", reply, r.device)) return;
    try {
      r.mode = mode_of(m);
    } catch (const std::invalid_argument& e) {
      return reply.error(400, e.what());
    }
    service.join(r, reply);
  });

  service.add_command("ExternalJoin", [&service](const api::ApiMessage& m, const Reply& reply) {
    std::string target;
    if (required(m, "id", reply, target)) service.external_join(target, reply);
  });

  service.add_command("Choose", [&service](const api::ApiMessage& m, const Reply& reply) {
    std::string choice, dev;
    if (!required(m, "choice", reply, choice)) return;
    bool decline = m.attr("decline") == "true";
    if (!decline && !required(m, "dev", reply, dev)) return;
    service.choose(choice, decline ? "" : dev, reply);
  });

  service.add_command("Approve", [&service](const api::ApiMessage& m, const Reply& reply) {
    std::string origin;
    if (required(m, "origin", reply, origin)) service.approve_origin(origin, m.attr("revoke") != "true", reply);
  });

  service.add_command("State", [&service](const api::ApiMessage&, const Reply& reply) {
    reply.ok("OK", {}, {service.state()});
  });

  service.add_command("SameDeviceJoin", [&service](const api::ApiMessage& m, const Reply& reply) {
    std::string target;
    if (required(m, "id", reply, target)) service.same_device_join(target, reply);
  });

  service.add_command("Invite", [&service](const api::ApiMessage& m, const Reply& reply) {
    std::vector<std::string> uris;
    for (auto* add : m.all("Add")) {
      std::string id;
      if (!required(*add, "id", reply, id)) return;
      uris.push_back(id);
    }
    service.invite(uris, reply);
  });

  service.add_command("Hangup", [&service](const api::ApiMessage& m, const Reply& reply) {
    service.hangup(m.attr("call"), reply);
  });

  service.add_command("Calls", [&service](const api::ApiMessage&, const Reply& reply) {
    auto list = service.calls();
    reply.ok("OK", {{"count", std::to_string(list.children.size())}}, {list});
  });

  service.add_command("Devices", [&service](const api::ApiMessage&, const Reply& reply) {
    auto list = service.devices();
    reply.ok("OK", {{"count", std::to_string(list.children.size())}}, {list});
  });

  service.add_command("Subscribe", [&service](const api::ApiMessage& m, const Reply& reply) {
    std::set<std::string> events;
    std::istringstream words(m.attr("events"));
    for (std::string w; words >> w;) {
      if (!service.has_event_kind(w)) {
        std::string known;
        for (auto& k : service.event_kinds()) known += (known.empty() ? "" : ", ") + k;
        return reply.error(400, "unknown event kind '" + w + "' (" + known + ")");
      }
      events.insert(w);
    }
    if (!service.subscribe(reply.connection(), events))
      return reply.error(403, "web pages get calls and roster events only");
    reply.ok(events.empty() ? "unsubscribed" : "subscribed");
  });

  // Authentication is for TCP, where the transport checks it first; elsewhere it is a no-op.
  service.add_command("Auth", [](const api::ApiMessage&, const Reply& reply) { reply.ok("no authentication needed"); });
}

}  // namespace confab::service
