#include "service/tunnel/tunnel.h"

#include <spdlog/spdlog.h>
#include <strings.h>

#include <algorithm>
#include <cstring>
#include <tuple>

#include "service/api/api_server.h"


namespace confab::service {

namespace {

bool same_method(std::string_view a, const char* b) {
  return a.size() == std::strlen(b) && strncasecmp(a.data(), b, a.size()) == 0;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void add_once(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

}  // namespace

std::optional<std::string> tunnel_refusal(std::string_view method, bool in_dialog) {
  std::string m(method);
  // Compared without case: "invite" is formally another method, but a peer that
  // is lax about case would take it for INVITE.
  for (const char* session : {"INVITE", "ACK", "CANCEL", "PRACK"})
    if (same_method(method, session))
      return in_dialog ? m + " would change the call's session, which the service manages (use <SameDeviceJoin> or <Hangup>)"
                       : m + " needs INVITE transaction or dialog state the tunnel does not keep (use <Join>)";
  if (!in_dialog) {
    if (same_method(method, "SUBSCRIBE"))
      return m + " would start a subscription whose NOTIFYs the tunnel cannot receive (they would be refused with 481)";
    return std::nullopt;
  }
  if (same_method(method, "BYE")) return m + " would end the call behind the service's back (use <Hangup call=\"..\"/>)";
  if (same_method(method, "UPDATE")) return m + " would change the call's session, which the service manages";
  if (same_method(method, "REGISTER")) return m + " is not sent inside a dialog (send it without call=)";
  if (same_method(method, "SUBSCRIBE"))
    return m + " would start a subscription in the call's dialog that the service does not keep";
  return std::nullopt;
}

TunnelPlan plan_tunnel_request(sip::RawRequest raw, bool in_dialog) {
  TunnelPlan plan;
  plan.ignored = std::move(raw.dropped);
  plan.spec.method = std::move(raw.method);
  plan.spec.content_type = std::move(raw.content_type);
  plan.spec.body = std::move(raw.body);
  if (in_dialog)
    plan.ignored.insert(plan.ignored.begin(), "Request-URI");
  else
    plan.spec.request_uri = std::move(raw.request_uri);
  for (auto& h : raw.headers) {
    std::string name = sip::canonical_header_name(h.name);
    bool dialog_owns = name == "From" || name == "To" || name == "Route" || name == "Contact";
    if (in_dialog && dialog_owns) {
      add_once(plan.ignored, name);
    } else if (name == "From") {
      plan.spec.from = h.value;
    } else if (name == "To") {
      plan.spec.to = h.value;
    } else {
      plan.spec.headers.push_back(std::move(h));
    }
  }
  return plan;
}

api::ApiMessage tunnel_response_event(const std::string& tag, std::string_view method, int status,
                                      std::string_view phrase, const sip::Message& response) {
  api::ApiMessage e("TunnelResponse");
  e.set("tag", tag).set("method", method).set("status", std::to_string(status));
  e.set("reason", phrase.empty() && response ? response.reason() : phrase);
  if (response) e.text = response.str();
  return e;
}

api::ApiMessage tunnel_request_event(const sip::Message& request, int answered) {
  api::ApiMessage e("TunnelRequest");
  e.set("method", request.method_name()).set("from", request.from_uri()).set("status", std::to_string(answered));
  e.text = request.str();
  return e;
}

Tunnel::Tunnel(ExtensionHost& host) : host_(host) {
  host_.events().add_kind("tunnel");
  host_.commands().add("Tunnel", [this](const api::ApiMessage& m, const Reply& reply) { command(m, reply); });
}

Tunnel::~Tunnel() = default;

void Tunnel::command(const api::ApiMessage& m, const Reply& reply) {
  std::string call_id = m.attr("call"), leg = m.attr("leg");
  if (!leg.empty() && call_id.empty()) return reply.error(400, "leg= needs call=");
  if (leg.empty()) leg = "target";
  if (leg != "target" && leg != "device") return reply.error(400, "leg must be target or device, not '" + leg + "'");
  auto parsed = sip::parse_raw_request(m.text);
  if (!parsed.request) return reply.error(parsed.code, "raw SIP request: " + parsed.error);
  bool in_dialog = !call_id.empty();
  if (auto why = tunnel_refusal(parsed.request->method, in_dialog)) return reply.error(403, *why);
  auto plan = plan_tunnel_request(std::move(*parsed.request), in_dialog);
  std::vector<std::pair<std::string, std::string>> ids{{"method", plan.spec.method}};
  if (!plan.ignored.empty()) ids.push_back({"ignored", joined(plan.ignored)});
  if (in_dialog) return send_in_dialog(call_id, leg, std::move(plan), reply, std::move(ids));

  spdlog::info("tunnel: {} {} for api {}", plan.spec.method, plan.spec.request_uri, reply.connection()->peer());
  host_.user_agent().send_request(plan.spec, [to = reply.connection(), tag = reply.tag(), method = plan.spec.method](
                                  int status, std::string_view phrase, const sip::Message& response) {
    to->send(tunnel_response_event(tag, method, status, phrase, response));
  });
  reply.ok("sent", ids);
}

void Tunnel::send_in_dialog(const std::string& call_id, const std::string& leg, TunnelPlan plan, const Reply& reply,
                            std::vector<std::pair<std::string, std::string>> ids) {
  ServiceCall* call = host_.find_call(call_id);
  if (!call || call->ended()) return reply.error(404, "no call '" + call_id + "' (see <Calls/>)");
  if (call->mode() != CallMode::Loop)
    return reply.error(409, "call " + call_id + " is in transfer mode: the service holds none of its dialogs");
  sip::Call* dialog = call->dialog(leg);
  if (!dialog || !dialog->established() || dialog->terminated())
    return reply.error(409, "call " + call_id + " has no established " + leg + " dialog");
  call->log().info("tunnel: {} in call {} ({} dialog) for api {}", plan.spec.method, call_id, leg,
                   reply.connection()->peer());
  pending_[dialog->id()].push_back({reply.connection(), reply.tag(), plan.spec.method, call_id, leg});
  dialog->request(plan.spec);
  ids.insert(ids.begin(), {{"call", call_id}, {"leg", leg}});
  reply.ok("sent", ids);
}

void Tunnel::on_leg_response(sip::Call& dialog, int status, std::string_view phrase, const sip::Message& response) {
  auto it = pending_.find(dialog.id());
  if (it == pending_.end() || it->second.empty()) return;  // the tunnel is the only sender of such requests
  const Pending& p = it->second.front();
  auto event = tunnel_response_event(p.tag, p.method, status, phrase, response);
  event.set("call", p.call).set("leg", p.leg);
  p.to->send(event);
  if (status < 200) return;
  it->second.pop_front();
  if (it->second.empty()) pending_.erase(it);
}

void Tunnel::on_leg_ended(sip::Call& dialog) {
  auto it = pending_.find(dialog.id());
  if (it == pending_.end()) return;
  // The stack drops the dialog's pending requests with it: say so rather than leave the client waiting.
  for (auto& p : it->second) {
    auto event = tunnel_response_event(p.tag, p.method, 481, "the dialog ended before a final response", sip::Message());
    event.set("call", p.call).set("leg", p.leg);
    p.to->send(event);
  }
  pending_.erase(it);
}

void Tunnel::on_leg_request(const std::string& call_id, std::string_view leg, sip::IncomingRequest& request) {
  if (!host_.events().has_subscriber("tunnel")) return;  // the call answers as it does without a tunnel
  request.respond(200, "OK");
  auto event = tunnel_request_event(request.message(), 200);
  event.set("call", call_id).set("leg", leg);
  host_.events().publish("tunnel", event);
}

bool Tunnel::add_request_handler(const std::string& method, RequestHandler handler) {
  return handlers_.emplace(method, std::move(handler)).second;
}

void Tunnel::on_request(sip::IncomingRequest request) {
  const sip::Message& message = request.message();
  std::string method(message.method_name());
  int status = 405;
  std::string reason = "Method Not Allowed";
  bool listened = host_.events().has_subscriber("tunnel");
  if (auto h = handlers_.find(method); h != handlers_.end()) {
    try {
      std::tie(status, reason) = h->second(message);
    } catch (const std::exception& e) {
      spdlog::error("tunnel: the handler of {} failed: {}", method, e.what());
      status = 500, reason = "Server Internal Error";
    }
    if (status < 200 || status > 699) status = 500, reason = "Server Internal Error";
  } else if (listened) {
    status = 200, reason = "OK";
  }
  spdlog::info("tunnel: incoming {} from {} answered {}", method, message.from_uri(), status);
  request.respond(status, reason);
  if (listened) host_.events().publish("tunnel", tunnel_request_event(message, status));
}

}  // namespace confab::service
