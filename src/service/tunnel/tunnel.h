// The service's low-level SIP access (docs/api.md, "Tunnel"): the <Tunnel>
// command sends a raw SIP request, out of dialog or inside a loop-mode call's
// dialog, and each of its responses goes back to the asking connection as a
// <TunnelResponse> event. Requests that reach the service and that it does
// not use itself go to the plugin handling their method, and are published as
// <TunnelRequest> events to clients subscribed to "tunnel": out-of-dialog
// ones (MESSAGE, INFO) and those in a loop-mode call's dialogs (INFO, MESSAGE).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/api_message.h"
#include "service/api/reply.h"
#include "service/calls/sip_leg.h"
#include "service/tunnel/extension_host.h"
#include "sip/raw_request.h"
#include "sip/user_agent.h"

namespace confab::service {

class ApiConnection;

// Why `method` may not be tunneled there (the reason, for a 403), or nullopt.
// Out of dialog: INVITE, ACK, CANCEL and PRACK need transaction or dialog
// state the tunnel does not keep; SUBSCRIBE would start a subscription whose
// NOTIFYs nobody could receive. In a call's dialog, also what would change or
// end the session the service manages: BYE, UPDATE; and REGISTER, SUBSCRIBE.
std::optional<std::string> tunnel_refusal(std::string_view method, bool in_dialog);

// What is sent for a parsed raw request. In a dialog, the dialog supplies the
// Request-URI, From, To, Route and Contact, so those of the text are left out
// too; `ignored` names everything of the text that is not sent.
struct TunnelPlan {
  sip::RequestSpec spec;
  std::vector<std::string> ignored;
};
TunnelPlan plan_tunnel_request(sip::RawRequest raw, bool in_dialog);

// <TunnelResponse tag=".." method=".." status="200" reason="OK">raw response</TunnelResponse>
api::ApiMessage tunnel_response_event(const std::string& tag, std::string_view method, int status,
                                      std::string_view phrase, const sip::Message& response);
// <TunnelRequest method="MESSAGE" from="sip:.." status="200">raw request</TunnelRequest> (`status`: what we answered)
api::ApiMessage tunnel_request_event(const sip::Message& request, int answered);

class Tunnel final : public LegListener {
 public:
  // Registers the command <Tunnel> and the event kind "tunnel" with the host.
  explicit Tunnel(ExtensionHost& host);
  ~Tunnel() override;
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  void command(const api::ApiMessage& message, const Reply& reply);

  // How an incoming out-of-dialog request is answered: (status 200..699, reason).
  using RequestHandler = std::function<std::pair<int, std::string>(const sip::Message& request)>;
  // One handler per method (plugins); false if `method` already has one.
  bool add_request_handler(const std::string& method, RequestHandler handler);
  // An out-of-dialog request the stack handed to the service: its method's
  // handler answers; else 200 if "tunnel" subscribers get it, else 405.
  void on_request(sip::IncomingRequest request);

  // LegListener (every loop-mode call of the service)
  void on_leg_request(const std::string& call_id, std::string_view leg, sip::IncomingRequest& request) override;
  void on_leg_response(sip::Call& dialog, int status, std::string_view phrase, const sip::Message& response) override;
  void on_leg_ended(sip::Call& dialog) override;

 private:
  // A request sent in a dialog, waiting for its final response. nua sends a
  // dialog's non-INVITE requests one at a time, so responses match in order.
  struct Pending {
    std::shared_ptr<ApiConnection> to;
    std::string tag, method, call, leg;
  };
  void send_in_dialog(const std::string& call_id, const std::string& leg, TunnelPlan plan, const Reply& reply,
                      std::vector<std::pair<std::string, std::string>> ids);

  ExtensionHost& host_;
  std::map<std::string, std::deque<Pending>> pending_;  // by sip::Call::id() of the dialog
  std::map<std::string, RequestHandler> handlers_;      // by method
};

}  // namespace confab::service
