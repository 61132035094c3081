// `confab service`: the per-user client SIP service. It speaks SIP as the user,
// drives the user's devices (loop mode: RFC 3725 third-party call control;
// transfer mode: REFER), moves calls without hang-up, watches conference
// rosters, and serves the local XML API (docs/api.md) to any number of
// applications at once. Everything runs on the SIP thread; the API sockets
// hand messages over (service/api_server.h).
#pragma once

#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "api/api_message.h"
#include "service/api_server.h"
#include "service/desktop_dialog.h"
#include "service/reply.h"
#include "service/device.h"
#include "service/origin_policy.h"
#include "service/roster_watch.h"
#include "service/service_call.h"
#include "service/service_config.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::service {

class ThirdPartyCall;
class DeviceRuntime;
class Tunnel;
class PluginLoader;

class ClientService final : public sip::UserAgent::Handler, public CallObserver, public ApiHandler {
 public:
  // A command handler: parses `message`, acts, answers through `reply` (once).
  using Command = std::function<void(const api::ApiMessage& message, const Reply& reply)>;

  // Binds SIP and the API (throws std::runtime_error naming what failed).
  ClientService(sip::EventLoop& loop, ServiceConfig config);
  ~ClientService() override;
  void start();
  // Ends every call and closes the API; runs the loop briefly for the goodbyes.
  void shutdown();

  // The command registry, keyed by element name (commands.cpp registers the built-in ones).
  void add_command(const std::string& name, Command command);
  std::vector<std::string> command_names() const;

  // What the commands use.
  struct JoinRequest {
    std::string target;      // SIP URI
    std::string device;      // device id or SIP URI; "" for the default device
    std::optional<CallMode> mode;  // default: the device's
  };
  void join(const JoinRequest& request, const Reply& reply);
  // Asks the user which device (the chooser page if one is open, else a desktop
  // dialog, else the default device), then joins as Join does.
  void external_join(const std::string& target, const Reply& reply);
  // The user's answer to a pending ExternalJoin: a device, or "" to decline.
  void choose(const std::string& choice, const std::string& device, const Reply& reply);
  // Approves (or revokes) a web origin for the WebSocket API.
  void approve_origin(const std::string& origin, bool yes, const Reply& reply);
  // Everything the chooser page shows: devices, calls, pending choices and approvals, rosters.
  api::ApiMessage state() const;
  std::string chooser_url() const;
  // Moves the current loop-mode call to `target` without the device hanging up.
  void same_device_join(const std::string& target, const Reply& reply);
  // RFC 4579: asks the current conference to add `uris`; with no current call, an ad-hoc one first.
  void invite(const std::vector<std::string>& uris, const Reply& reply);
  void hangup(const std::string& call_id, const Reply& reply);
  api::ApiMessage calls() const;
  api::ApiMessage devices() const;
  // False (nothing changed) when a web page asks for kinds only local programs get.
  bool subscribe(const std::shared_ptr<ApiConnection>& client, const std::set<std::string>& events);
  bool has_device(const std::string& id) const { return devices_.count(id) > 0; }
  const ServiceConfig& config() const { return config_; }
  uint16_t api_tcp_port() const { return api_ ? api_->tcp_port() : 0; }
  const std::string& token() const { return token_; }
  // Sends `event` to every client subscribed to `kind` ("calls", "roster", "tunnel", plugins' kinds).
  void publish(const std::string& kind, const api::ApiMessage& event);

  // What the Tunnel and plugins build on (service/tunnel.h, service/plugin.h).
  ServiceCall* find_call(const std::string& id) const;
  void add_event_kind(const std::string& kind) { event_kinds_.insert(kind); }
  bool has_event_kind(const std::string& kind) const { return event_kinds_.count(kind) > 0; }
  const std::set<std::string>& event_kinds() const { return event_kinds_; }
  bool has_subscriber(const std::string& kind) const;  // any client subscribed to `kind`
  // sip::UserAgent::Handler: out-of-dialog requests the stack hands over (MESSAGE, INFO) go to the Tunnel.
  void on_request(sip::IncomingRequest request) override;

  // sip::UserAgent::Handler
  void on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) override;
  // CallObserver
  void on_call_state(ServiceCall& call, std::string_view state, int status, std::string_view reason) override;
  void on_call_gone(ServiceCall& call) override;
  // ApiHandler
  void on_message(const std::shared_ptr<ApiConnection>& from, api::ApiMessage message) override;
  void on_closed(const std::shared_ptr<ApiConnection>& connection) override;

 private:
  // Places a call; `done(status, reason, call id)` once it is up (or failed, id empty if never placed).
  using CallPlaced = std::function<void(int status, const std::string& reason, const std::string& id)>;
  void place_call(const JoinRequest& request, CallPlaced done);
  // Once the device is ready (Device::prepare).
  void start_call(Device& device, CallMode mode, const JoinRequest& request, CallPlaced done);
  // A configured device by id, or one for a SIP URI (kept alive by `adhoc`); null if neither.
  Device* resolve_device(const std::string& dev, std::shared_ptr<Device>& adhoc) const;
  // Rings `dev` (a device id or SIP URI) for an incoming call, once the device is ready.
  void ring_device(const std::string& dev, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite);
  void answer_incoming(Device& device, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite);
  ThirdPartyCall* current_call() const;
  std::vector<std::pair<std::string, std::string>> device_list() const;  // (id, name) for the desktop dialog
  api::ApiMessage describe(const ServiceCall& call, std::string_view state) const;
  void watch_roster(ThirdPartyCall& call);
  void finish_choice(const std::string& choice, const std::string& outcome);

  sip::EventLoop& loop_;
  ServiceConfig config_;
  std::map<std::string, std::unique_ptr<Device>> devices_;
  std::unique_ptr<DeviceRuntime> device_runtime_;  // devices' I/O thread and directories
  std::unique_ptr<sip::UserAgent> ua_;
  std::unique_ptr<sip::Registration> registration_;
  std::string token_;
  std::unique_ptr<ApiServer> api_;
  OriginPolicy origins_;
  std::shared_ptr<class WebApi> web_;
  DesktopDialog dialog_;
  // The user's answer: a device, or "" with why not (603 declined, 408 no answer in time, 503 shutting down).
  using Decision = std::function<void(const std::string& device, int status, const std::string& reason)>;
  struct PendingChoice {
    std::string target;  // what to join, or who calls
    std::string from;    // who asked (an API client), or "" for an incoming call
    bool incoming = false;
    Decision decide;
    std::unique_ptr<sip::Timer> timeout;
    std::shared_ptr<sip::CallHandler> caller_watch;  // incoming: notices the caller giving up
  };
  // Asks on the chooser page; returns the choice id.
  std::string ask_user(PendingChoice choice);
  api::ApiMessage describe(const std::string& id, const PendingChoice& choice) const;
  std::map<std::string, PendingChoice> choices_;  // ExternalJoins and incoming calls waiting for the user, by choice id
  uint64_t next_choice_ = 1;
  std::map<std::string, Command> commands_;
  std::map<std::string, std::unique_ptr<ServiceCall>> calls_;  // by call id
  std::map<std::string, std::unique_ptr<RosterWatch>> rosters_;  // by call id (loop mode)
  std::string current_;  // id of the loop-mode call SameDeviceJoin/Invite act on
  struct Client {
    std::shared_ptr<ApiConnection> connection;
    std::set<std::string> events;
  };
  std::map<uint64_t, Client> clients_;  // those that subscribed to events
  std::set<std::string> event_kinds_{"calls", "roster", "choices"};
  std::unique_ptr<Tunnel> tunnel_;
  std::unique_ptr<PluginLoader> plugins_;
  uint64_t next_call_ = 1;
  // Joins whose device is still getting ready (a softphone starting): Hangup cancels them.
  std::map<uint64_t, std::function<void()>> placing_;  // the cancel of each, by a number of its own
  uint64_t next_placing_ = 1;
};

// Registers Join, ExternalJoin, SameDeviceJoin, Invite, Hangup, Calls, Devices, Subscribe.
void add_builtin_commands(ClientService& service);

}  // namespace confab::service
