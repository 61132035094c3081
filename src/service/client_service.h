// `confab service`: the per-user client SIP service. It speaks SIP as the
// user, drives the user's devices (loop mode: RFC 3725 third-party call
// control; transfer mode: REFER), moves calls without hang-up, watches
// conference rosters, and serves the local XML API (docs/api.md) to any number
// of applications at once. Everything runs on the SIP thread; the API sockets
// hand messages over (service/api/api_server.h).
//
// This class joins the parts (docs/architecture.md): the API transports and
// command table (api/), the devices (devices/), the calls (calls/), asking the
// user (choice/) and the extensions (tunnel/). Its own code is what the
// commands do: client_service.cpp (the outgoing calls), incoming_calls.cpp,
// builtin_commands.cpp (parsing each command's element).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api_message.h"
#include "http/metrics_page.h"
#include "service/api/api_server.h"
#include "service/api/command_table.h"
#include "service/api/event_hub.h"
#include "service/api/origin_policy.h"
#include "service/api/reply.h"
#include "service/api/web_leave_grace.h"
#include "service/calls/call_registry.h"
#include "service/choice/device_chooser.h"
#include "service/devices/device_registry.h"
#include "service/service_config.h"
#include "service/tunnel/extension_host.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::service {

class DeviceRuntime;
class Tunnel;
class PluginLoader;
class WebApi;

class ClientService final : public sip::UserAgent::Handler, public ApiHandler, public ExtensionHost {
 public:
  // Binds SIP and the API (throws std::runtime_error naming what failed).
  ClientService(sip::EventLoop& loop, ServiceConfig config);
  ~ClientService() override;
  void start();
  // Ends every call and closes the API; runs the loop briefly for the goodbyes.
  // Removes the runtime files it wrote (token, chooser address).
  void shutdown();

  // What the commands do (builtin_commands.cpp parses their elements).
  struct JoinRequest {
    std::string target;            // sip:, sips: or tel: URI
    std::string device;            // device id or SIP URI; "" for the default device
    std::optional<CallMode> mode;  // default: the device's
  };
  void join(const JoinRequest& request, const Reply& reply);
  // Asks the user which device (DeviceChooser), then joins as Join does.
  void external_join(const std::string& target, const Reply& reply);
  // Moves the current loop-mode call to `target` without the device hanging up.
  void same_device_join(const std::string& target, const Reply& reply);
  // RFC 4579: asks the current conference to add `uris`; with no current call, an ad-hoc one first.
  void invite(const std::vector<std::string>& uris, const Reply& reply);
  void hangup(const std::string& call_id, const Reply& reply);
  // Approves (or revokes) a web origin for the WebSocket API.
  void approve_origin(const std::string& origin, bool yes, const Reply& reply);
  // Everything the chooser page shows: devices, calls, pending choices and approvals, rosters.
  api::ApiMessage state() const;
  DeviceChooser& chooser() { return *chooser_; }
  const DeviceRegistry& devices() const { return *devices_; }
  const CallRegistry& calls() const { return *calls_; }

  const ServiceConfig& config() const { return config_; }
  uint16_t api_tcp_port() const { return api_ ? api_->tcp_port() : 0; }
  const std::string& token() const { return token_; }
  std::string chooser_url() const;

  // ExtensionHost: what the Tunnel, plugins and the built-in commands use.
  CommandTable& commands() override { return commands_; }
  EventHub& events() override { return events_; }
  ServiceCall* find_call(const std::string& id) const override { return calls_->find(id); }
  const std::string& identity() const override { return config_.identity; }
  sip::UserAgent& user_agent() override { return *ua_; }
  sip::EventLoop& loop() override { return loop_; }

  // sip::UserAgent::Handler
  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;
  // Out-of-dialog requests the stack hands over (MESSAGE, INFO) go to the Tunnel.
  void on_request(sip::IncomingRequest request) override;
  // ApiHandler
  void on_message(const std::shared_ptr<ApiConnection>& from, api::ApiMessage message) override;
  void on_opened(const std::shared_ptr<ApiConnection>& connection) override;
  void on_closed(const std::shared_ptr<ApiConnection>& connection) override;
  // GET /metrics on the web port (docs/deployment.md, "Metrics").
  void add_metrics(http::MetricsPage& page) const;

 private:
  void open_api();
  // Places a call; `done(status, reason, call)` once it is up (or failed; call null if never placed).
  using CallPlaced = std::function<void(int status, const std::string& reason, ServiceCall* call)>;
  void place_call(const JoinRequest& request, CallPlaced done);
  // Once the device is ready (Device::prepare).
  void start_call(Device& device, CallMode mode, const JoinRequest& request, CallPlaced done);
  // Hangs `call` up; its device hears it is free when no other call uses it.
  void end_call(ServiceCall& call);
  // The web origin that asked for `call` now owns it (WebLeaveGrace); a local program's request frees it.
  void taken_by(const Reply& reply, const std::string& call_id);
  // A loop-mode call's legs, through the service's user agent.
  std::unique_ptr<class SipLegDialer> leg_dialer(const std::string& call_id);
  // Incoming calls (incoming_calls.cpp).
  bool admit_incoming(sip::IncomingRequest& invite);
  void ask_for_incoming(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite);
  void ring_device(const std::string& dev, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite);
  void answer_incoming(Device& device, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite);

  sip::EventLoop& loop_;
  ServiceConfig config_;
  CommandTable commands_;
  EventHub events_;
  std::unique_ptr<DeviceRegistry> devices_;
  std::unique_ptr<DeviceRuntime> device_runtime_;  // devices' I/O thread and directories
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<sip::Registration> registration_;
  std::unique_ptr<sip::RegistrationHandler> registration_log_;  // says how each REGISTER went
  std::unique_ptr<CallRegistry> calls_;
  std::unique_ptr<DeviceChooser> chooser_;
  std::string token_;
  std::vector<std::string> runtime_files_;  // written at start, removed at shutdown
  std::unique_ptr<ApiServer> api_;
  OriginPolicy origins_;
  std::unique_ptr<WebLeaveGrace> leave_grace_;  // web pages' calls end when their site is left
  std::shared_ptr<WebApi> web_;
  std::unique_ptr<Tunnel> tunnel_;
  std::unique_ptr<PluginLoader> plugins_;
  // Joins whose device is still getting ready (a softphone starting): Hangup cancels them.
  std::map<uint64_t, std::function<void()>> placing_;  // the cancel of each, by a number of its own
  uint64_t next_placing_ = 1;
  // Applications connected now (web pages once admitted, local programs from their
  // first message): connection id -> transport ("unix", "tcp", "web").
  std::map<uint64_t, std::string> api_clients_;
  std::map<std::string, uint64_t> api_messages_;  // by command name ("unknown" for the rest)
};

// Registers Join, ExternalJoin, Choose, Approve, State, SameDeviceJoin, Invite,
// Hangup, Calls, Devices, Subscribe and Auth.
void add_builtin_commands(ClientService& service);

}  // namespace confab::service
