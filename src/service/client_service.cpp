#include "service/client_service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "base/host_port.h"
#include "base/random.h"
#include "service/api/web_api.h"
#include "service/calls/click_to_dial_call.h"
#include "service/calls/sip_leg.h"
#include "service/calls/third_party_call.h"
#include "service/calls/transfer_call.h"
#include "service/devices/device_runtime.h"
#include "service/paths.h"
#include "service/tunnel/plugin_loader.h"
#include "service/tunnel/tunnel.h"
#include "sip/registration_status.h"
#include "sip/uri.h"

namespace confab::service {

namespace {

// The service's registration at its proxy, in the log: each change of outcome once
// (a refresh that succeeds again says nothing), in plain words (sip::describe_registration).
class RegistrationLog final : public sip::RegistrationHandler {
 public:
  explicit RegistrationLog(const ServiceConfig& config) : config_(config) {}
  void on_registration(int status, std::string_view reason) override {
    auto said = sip::describe_registration(status, reason, !config_.password.empty(),
                                           "set password_file in service.toml (or --password-file)");
    if (said.status == last_) return;
    last_ = said.status;
    if (said.ok())
      spdlog::info("service: registered {} at {}", config_.identity, config_.proxy);
    else
      spdlog::warn("service: registration of {} at {} failed: {} {}; calls to the user will not reach this service",
                   config_.identity, config_.proxy, said.status, said.reason);
  }

 private:
  const ServiceConfig& config_;
  int last_ = 0;
};

// True if something accepts connections on the Unix socket `path` (a service already runs).
bool socket_answers(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    throw std::runtime_error("socket path too long: " + path);
  }
  std::copy(path.begin(), path.end(), addr.sun_path);
  bool answers = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return answers;
}

// Same conference server: same host and port (case-insensitive host).
bool same_server(const std::string& a, const std::string& b) {
  auto ua = sip::Uri::parse(a), ub = sip::Uri::parse(b);
  if (!ua || !ub) return false;
  return strcasecmp(ua->host().c_str(), ub->host().c_str()) == 0 && ua->port_or_default() == ub->port_or_default();
}

// sip:/sips: URIs as they are; tel: numbers through the configured gateway.
std::string resolve_target(const std::string& target, const std::string& tel_gateway, std::string& error) {
  if (sip::is_sip_uri(target)) return target;
  if (target.rfind("tel:", 0) == 0) {
    std::string digits = sip::telephone_digits(target);
    if (digits.empty()) return error = "'" + target + "' is not a telephone number", "";
    if (tel_gateway.empty()) return error = "tel: targets need tel_gateway in service.toml", "";
    return "sip:" + digits + "@" + tel_gateway + ";user=phone";
  }
  error = "id must be a sip:, sips: or tel: URI, not '" + target + "'";
  return "";
}

// One Invite's invitations (RFC 4579 REFERs to the conference): its result
// waits until the conference has said how each INVITE it sent ended (the
// REFER's final NOTIFY), at most kWait.
class Invitations : public std::enable_shared_from_this<Invitations> {
 public:
  static constexpr std::chrono::seconds kWait{64};
  Invitations(sip::EventLoop& loop, std::vector<std::string> uris, Reply reply, bool created)
      : uris_(std::move(uris)), reply_(std::move(reply)), created_(created), timeout_(loop) {}

  void send(ServiceCall& call) {
    id_ = call.id();
    conference_ = call.target_uri();
    timeout_.once(kWait, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->answer();
    });
    for (auto& u : uris_)  // each REFER's callback keeps this alive until its outcome
      call.refer_target(u, [self = shared_from_this(), u](int status, const std::string& why) {
        self->outcomes_[u] = {status, why};
        if (++self->reported_ == self->uris_.size()) self->answer();
      });
  }

 private:
  void answer() {
    if (std::exchange(answered_, true)) return;
    timeout_.cancel();
    std::vector<api::ApiMessage> added;
    bool all_ok = true;
    for (auto& u : uris_) {
      auto it = outcomes_.find(u);
      auto [code, why] = it != outcomes_.end() ? it->second
                                               : std::pair<int, std::string>{202, "accepted; no outcome within " +
                                                                                      std::to_string(kWait.count()) + " s"};
      all_ok = all_ok && code < 300;
      added.push_back(api::ApiMessage("Added").set("id", u).set("code", std::to_string(code)).set("reason", why));
    }
    std::vector<std::pair<std::string, std::string>> ids{{"call", id_}, {"conference", conference_}};
    if (all_ok)
      reply_.ok(created_ ? "conference created, invited" : "invited", ids, added);
    else
      reply_.error(502, "some invitations failed (see <Added>)", added);
  }

  std::vector<std::string> uris_;
  Reply reply_;
  bool created_, answered_ = false;
  size_t reported_ = 0;
  std::string id_, conference_;
  std::map<std::string, std::pair<int, std::string>> outcomes_;  // by URI
  sip::Timer timeout_;
};

}  // namespace

ClientService::ClientService(sip::EventLoop& loop, ServiceConfig config)
    : loop_(loop),
      config_(std::move(config)),
      origins_(config_.origins_file.empty() ? config_dir() + "/approved-origins" : config_.origins_file) {
  complete_service_config(config_);
  devices_ = std::make_unique<DeviceRegistry>(config_.devices, config_.default_device);
  if (!config_.incoming_device.empty() && config_.incoming_device != "off" && !devices_->known(config_.incoming_device))
    throw std::runtime_error("incoming_device '" + config_.incoming_device +
                             "' is neither a configured device, a SIP URI nor \"off\"");

  sip::UserAgentOptions o;
  o.listen = config_.sip_listen;
  o.identity = config_.identity;
  o.proxy = config_.proxy;
  o.user_agent = "confab-service";
  o.transaction_timeout_ms = config_.transaction_timeout_ms;
  if (!config_.password.empty()) o.credentials.push_back({sip::Uri::parse(config_.identity)->user(), config_.password, ""});
  ua_ = std::make_unique<sip::UserAgent>(loop_, o, *this);
  if (config_.register_at_proxy) {
    registration_log_ = std::make_unique<RegistrationLog>(config_);
    registration_ = ua_->register_at(config_.identity, config_.proxy, 600, registration_log_.get());
  }

  calls_ = std::make_unique<CallRegistry>(loop_, *ua_, [this](const std::string& kind, const api::ApiMessage& event) {
    if (leave_grace_ && kind == "calls" && event.attr("state") == "ended") leave_grace_->call_ended(event.attr("id"));
    events_.publish(kind, event);
  });
  leave_grace_ = std::make_unique<WebLeaveGrace>(
      loop_, std::chrono::seconds(config_.leave_grace_s), [this](const std::string& id, const std::string& origin) {
        ServiceCall* call = calls_->find(id);
        if (!call || call->ended()) return;
        call->log().info("service: call {} ended: every page of {} closed {} s ago (leave_grace_s)", id, origin,
                         config_.leave_grace_s);
        end_call(*call);
      });
  chooser_ = std::make_unique<DeviceChooser>(loop_, *devices_, events_, std::chrono::seconds(config_.choice_timeout_s));
  device_runtime_ = std::make_unique<DeviceRuntime>(loop_, runtime_dir() + "/devices");
  open_api();
  add_builtin_commands(*this);
  tunnel_ = std::make_unique<Tunnel>(*this);
  plugins_ = std::make_unique<PluginLoader>(*this, *tunnel_);
  if (!config_.plugin_dir.empty()) plugins_->load_directory(config_.plugin_dir);
}

void ClientService::open_api() {
  if (socket_answers(config_.api_socket)) throw std::runtime_error("a service already answers on " + config_.api_socket);
  ApiServerOptions api;
  api.unix_path = config_.api_socket;
  if (!config_.api_tcp.empty()) {
    auto tcp = base::parse_host_port(config_.api_tcp, "api_tcp");
    api.tcp_host = tcp.host;
    api.tcp_port = tcp.port;
    token_ = write_token_file(config_.token_file);
    runtime_files_.push_back(config_.token_file);
    api.token = token_;
  }
  api_ = std::make_unique<ApiServer>(loop_, api, *this);
  if (config_.web_api.empty()) return;
  auto web = base::parse_host_port(config_.web_api, "web_api");
  web_ = WebApi::create(loop_, *this, origins_, web.host, web.port, base::random_hex(16),
                        [this](const std::string& origin) {
                          loop_.post([this, origin] {
                            events_.publish("choices", api::ApiMessage("ApprovalRequest").set("origin", origin));
                          });
                        });
  web_->serve_metrics([this](http::MetricsPage& page) { add_metrics(page); });
  // The chooser's address with its key, for `confab chooser` (user-only, like the token).
  std::string path = runtime_dir() + "/chooser-url";
  write_private_file(path, web_->chooser_url() + "\n");
  runtime_files_.push_back(path);
}

ClientService::~ClientService() { shutdown(); }

void ClientService::start() {
  api_->start();
  if (web_) {
    web_->start();
    spdlog::info("device chooser: {}", web_->chooser_url());
  }
  std::string tcp;
  if (api_->tcp_port()) tcp = ", tcp " + base::HostPort{base::parse_host_port(config_.api_tcp, "api_tcp").host,
                                                         api_->tcp_port()}.str();
  spdlog::info("service {} on {} (API: {}{}{})", config_.identity, ua_->contact(), config_.api_socket, tcp,
               devices_->empty() ? "" : ", " + std::to_string(devices_->size()) + " devices");
  if (devices_->default_is_implied())
    spdlog::info("service: default device {} (the only one configured)", devices_->default_device());
}

void ClientService::shutdown() {
  if (!ua_) return;
  size_t calls = calls_->list().children.size();
  if (api_) api_->stop();
  if (web_) web_->stop();
  chooser_->shutdown();
  if (device_runtime_) device_runtime_->stop();  // pending device completions are dropped
  calls_->clear();  // hangs up what is left
  leave_grace_.reset();  // its timers, on this thread
  registration_.reset();
  ua_->shutdown();
  devices_->stop_all();  // launched softphones quit, after our goodbyes
  api_.reset();
  web_.reset();
  ua_.reset();
  for (auto& f : runtime_files_) ::unlink(f.c_str());
  spdlog::info("service {} stopped ({} call{} ended)", config_.identity, calls, calls == 1 ? "" : "s");
}

namespace {
std::string transport_of(const ApiConnection& connection) {
  return connection.peer().substr(0, connection.peer().find(':'));
}
}  // namespace

void ClientService::on_message(const std::shared_ptr<ApiConnection>& from, api::ApiMessage message) {
  api_clients_.try_emplace(from->id(), transport_of(*from));
  ++api_messages_[commands_.has(message.name) ? message.name : "unknown"];
  commands_.dispatch(from, message);
}

void ClientService::on_opened(const std::shared_ptr<ApiConnection>& connection) {
  api_clients_.try_emplace(connection->id(), transport_of(*connection));
  if (auto origin = web_origin(*connection); !origin.empty() && leave_grace_) leave_grace_->page_opened(origin);
}

void ClientService::on_closed(const std::shared_ptr<ApiConnection>& connection) {
  api_clients_.erase(connection->id());
  events_.forget(*connection);
  if (auto origin = web_origin(*connection); !origin.empty() && leave_grace_) leave_grace_->page_closed(origin);
}

void ClientService::taken_by(const Reply& reply, const std::string& call_id) {
  if (leave_grace_) leave_grace_->call_taken(call_id, reply.connection() ? web_origin(*reply.connection()) : "");
}

void ClientService::on_request(sip::IncomingRequest request) { tunnel_->on_request(std::move(request)); }

void ClientService::add_metrics(http::MetricsPage& page) const {
  http::add_sip_message_counts(page, ua_->message_counts());
  std::map<std::string, size_t> clients{{"unix", 0}, {"tcp", 0}, {"web", 0}};
  for (auto& [id, transport] : api_clients_) ++clients[transport];
  for (auto& [transport, n] : clients)
    page.gauge("confab_service_api_clients", "applications connected to the API now, by transport",
               static_cast<double>(n), {{"transport", transport}});
  for (auto& [name, n] : api_messages_)
    page.counter("confab_service_api_messages_total", "API messages received, by command", n, {{"command", name}});
  page.counter("confab_service_calls_total", "calls since start, by direction", calls_->placed(),
               {{"direction", "outgoing"}});
  page.counter("confab_service_calls_total", "calls since start, by direction", calls_->received(),
               {{"direction", "incoming"}});
  for (auto& [state, n] : calls_->count_by_state())
    page.gauge("confab_service_calls", "calls now, by state", static_cast<double>(n), {{"state", state}});
  page.gauge("confab_service_registered", "1 while the service's own registration holds, else 0",
             registration_ && registration_->registered() ? 1 : 0);
}

std::string ClientService::chooser_url() const { return web_ ? web_->chooser_url() : std::string(); }

// ---- placing calls ----

std::unique_ptr<SipLegDialer> ClientService::leg_dialer(const std::string& call_id) {
  return std::make_unique<SipLegDialer>(*ua_, call_id, tunnel_.get());  // the Tunnel hears what the call does not use
}

void ClientService::place_call(const JoinRequest& original, CallPlaced done) {
  std::string error;
  JoinRequest request = original;
  request.target = resolve_target(original.target, config_.tel_gateway, error);
  if (request.target.empty()) return done(400, error, nullptr);
  std::string dev = request.device.empty() ? devices_->default_device() : request.device;
  if (dev.empty()) return done(409, "no device: name one with <Use dev=\"..\"/> or set default_device", nullptr);
  std::shared_ptr<Device> adhoc;
  Device* device = devices_->resolve(dev, adhoc);
  if (!device) return done(404, "unknown device '" + dev + "' (see <Devices/>)", nullptr);
  CallMode mode = request.mode.value_or(device->default_mode());
  if (device->dials_itself() && mode == CallMode::Loop)
    return done(400, "device " + device->id() + " (" + std::string(device->kind()) +
                         ") calls the target itself: transfer mode only", nullptr);
  // The device gets ready first (a softphone may have to be started), without blocking.
  uint64_t placing = next_placing_++;
  auto cancelled = std::make_shared<bool>(false);
  placing_[placing] = [cancelled, done] {
    *cancelled = true;
    done(487, "cancelled by Hangup while the device was getting ready", nullptr);
  };
  device->prepare(*device_runtime_, [this, device, adhoc, mode, request, done, placing, cancelled](
                                        int status, const std::string& reason) {
    if (*cancelled || !ua_ || device_runtime_->stopped()) return;
    placing_.erase(placing);
    if (status >= 300) return done(status, "device " + device->id() + ": " + reason, nullptr);
    start_call(*device, mode, request, done);
  });
}

void ClientService::start_call(Device& device, CallMode mode, const JoinRequest& request, CallPlaced done) {
  std::string id = calls_->next_id();
  sip::CallOptions options;
  options.from = config_.identity;
  std::unique_ptr<ServiceCall> call;
  if (device.dials_itself())
    call = std::make_unique<ClickToDialCall>(*device_runtime_, *calls_, id, device, request.target);
  else if (mode == CallMode::Loop)
    call = std::make_unique<ThirdPartyCall>(loop_, leg_dialer(id), *calls_, id, device.id(), device.sip_uri(),
                                            request.target, options, std::chrono::seconds(config_.keepalive_s));
  else
    call = std::make_unique<TransferCall>(loop_, *ua_, *calls_, id, device.id(), device.sip_uri(), request.target,
                                          options);
  auto& placed = calls_->add(std::move(call), CallState::Calling);
  placed.start([done = std::move(done), &placed](int status, const std::string& reason) { done(status, reason, &placed); });
}

void ClientService::join(const JoinRequest& request, const Reply& reply) {
  place_call(request, [this, reply, request](int status, const std::string& reason, ServiceCall* call) {
    if (status >= 300) return reply.error(status, reason);
    taken_by(reply, call->id());
    reply.ok(call->mode() == CallMode::Loop ? "connected" : "transferred",
             {{"call", call->id()},
              {"target", call->target_uri()},
              {"device", call->device_id()},
              {"mode", std::string(mode_name(call->mode()))}});
  });
}

void ClientService::external_join(const std::string& target, const Reply& reply) {
  std::string error;
  if (resolve_target(target, config_.tel_gateway, error).empty()) return reply.error(400, error);
  if (devices_->empty() && devices_->default_device().empty())
    return reply.error(409, "no device to choose from: configure devices in service.toml");
  DeviceChooser::Question question{target, reply.connection()->peer(), false};
  chooser_->ask(question, [this, target, reply](const DeviceChooser::Decision& d) {
    if (d.outcome != DeviceChooser::Outcome::Chosen) return reply.error(d.status, d.reason);
    join({target, d.device, std::nullopt}, reply);
  });
}

void ClientService::same_device_join(const std::string& original, const Reply& reply) {
  std::string error, target = resolve_target(original, config_.tel_gateway, error);
  if (target.empty()) return reply.error(400, error);
  auto* call = calls_->current();
  if (!call) return external_join(target, reply);  // nothing to move: the user picks the device
  if (call->target_uri() == target) {  // already there (a page reloaded, another tab of the same page)
    taken_by(reply, call->id());
    return reply.ok("already there", {{"call", call->id()}, {"target", target}, {"how", "none"}});
  }
  bool replaces = same_server(call->target_uri(), target);
  call->move_to(target, replaces, [this, reply, id = call->id(), target](int status, const std::string& reason,
                                                                         const std::string& how) {
    if (status >= 300) return reply.error(status, reason);
    taken_by(reply, id);
    reply.ok("moved", {{"call", id}, {"target", target}, {"how", how}});
  });
}

void ClientService::invite(const std::vector<std::string>& uris, const Reply& reply) {
  if (uris.empty()) return reply.error(400, "<Invite> needs at least one <Add id=\"..\"/>");
  for (auto& u : uris)
    if (!sip::is_sip_uri(u)) return reply.error(400, "<Add id> must be a sip: or sips: URI, not '" + u + "'");
  auto add_all = [this, uris, reply](ServiceCall& call, bool created) {
    std::make_shared<Invitations>(loop_, uris, reply, created)->send(call);
  };
  if (auto* call = calls_->current()) return add_all(*call, false);
  // No current conference: an ad-hoc one on the default device, then the invitations.
  auto me = sip::Uri::parse(config_.identity);
  std::string conference = "sip:" + (me && !me->user().empty() ? me->user() : "conf") + "-" + base::random_hex(4) +
                           "@" + config_.conference_server;
  spdlog::info("service: ad-hoc conference {}", conference);
  place_call({conference, "", CallMode::Loop}, [reply, add_all](int status, const std::string& reason, ServiceCall* call) {
    if (status >= 300 || !call) return reply.error(status >= 300 ? status : 500, "ad-hoc conference: " + reason);
    add_all(*call, true);
  });
}

void ClientService::hangup(const std::string& call_id, const Reply& reply) {
  std::string id = call_id.empty() ? calls_->current_id() : call_id;
  ServiceCall* call = calls_->find(id);
  // No call named: the current call, and the Joins still waiting for their device.
  size_t cancelled = call_id.empty() ? placing_.size() : 0;
  if (cancelled) {
    spdlog::info("service: Hangup cancels {} join(s) waiting for their device", cancelled);
    for (auto& [n, cancel] : std::exchange(placing_, {})) cancel();
  }
  if (id.empty() || !call || call->ended()) {
    if (cancelled) return reply.ok("cancelled", {{"cancelled", std::to_string(cancelled)}});
    return reply.error(404, call_id.empty() ? "no current call" : "no call " + call_id);
  }
  end_call(*call);
  std::vector<std::pair<std::string, std::string>> ids{{"call", id}};
  if (cancelled) ids.emplace_back("cancelled", std::to_string(cancelled));
  reply.ok("hung up", ids);
}

void ClientService::end_call(ServiceCall& call) {
  call.hangup();
  Device* device = devices_->find(call.device_id());
  if (device && !calls_->device_in_use(call.device_id(), call.id())) device->calls_ended(*device_runtime_);
}

// ---- the user's side: web origins, the chooser page's view ----

void ClientService::approve_origin(const std::string& origin, bool yes, const Reply& reply) {
  if (!origins_.approve(origin, yes))
    return reply.error(400, "'" + origin + "' is not a web origin (scheme://host[:port])");
  spdlog::info("service: web origin {} {}", origin, yes ? "approved" : "refused");
  events_.publish("choices", api::ApiMessage("ApprovalDone").set("origin", origin).set("approved", yes ? "true" : "false"));
  reply.ok(yes ? "approved" : "revoked", {{"origin", origin}});
}

api::ApiMessage ClientService::state() const {
  api::ApiMessage s("State");
  s.add(devices_->describe());
  s.add(calls_->list());
  for (auto& c : chooser_->pending()) s.add(c);
  for (auto& o : origins_.pending_list()) s.add(api::ApiMessage("ApprovalRequest").set("origin", o));
  for (auto& o : origins_.approved_list()) s.add(api::ApiMessage("Approved").set("origin", o));
  for (auto& r : calls_->rosters()) s.add(r);
  return s;
}

}  // namespace confab::service
