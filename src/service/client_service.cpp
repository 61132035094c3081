#include "service/client_service.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <random>

#include "service/click_to_dial_call.h"
#include "service/device_runtime.h"
#include "service/plugin_loader.h"
#include "service/third_party_call.h"
#include "service/tunnel.h"
#include "service/transfer_call.h"
#include "service/web_api.h"
#include "sip/uri.h"

namespace confab::service {

namespace {

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

bool is_sip_uri(const std::string& s) {
  auto u = sip::Uri::parse(s);
  return u && (u->scheme() == "sip" || u->scheme() == "sips") && !u->host().empty();
}

// Same conference server: same host and port (case-insensitive host).
bool same_server(const std::string& a, const std::string& b) {
  auto ua = sip::Uri::parse(a), ub = sip::Uri::parse(b);
  if (!ua || !ub) return false;
  return strcasecmp(ua->host().c_str(), ub->host().c_str()) == 0 && ua->port_or_default() == ub->port_or_default();
}

// sip:/sips: URIs as they are; tel: numbers through the configured gateway.
std::string resolve_target(const std::string& target, const std::string& tel_gateway, std::string& error) {
  if (is_sip_uri(target)) return target;
  if (target.rfind("tel:", 0) == 0) {
    std::string digits = sip::telephone_digits(target);
    if (digits.empty()) return error = "'" + target + "' is not a telephone number", "";
    if (tel_gateway.empty()) return error = "tel: targets need tel_gateway in service.toml", "";
    return "sip:" + digits + "@" + tel_gateway + ";user=phone";
  }
  error = "id must be a sip:, sips: or tel: URI, not '" + target + "'";
  return "";
}

std::string random_hex(int digits) {
  std::random_device rd;
  std::string out;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < digits; ++i) out += hex[rd() % 16];
  return out;
}

}  // namespace

ClientService::ClientService(sip::EventLoop& loop, ServiceConfig config)
    : loop_(loop),
      config_(std::move(config)),
      origins_(config_.origins_file.empty() ? config_dir() + "/approved-origins" : config_.origins_file),
      dialog_(loop) {
  for (auto& d : config_.devices) {
    if (devices_.count(d.id)) throw std::runtime_error("device " + d.id + " is configured twice");
    devices_[d.id] = DeviceFactory::instance().make(d);
  }
  if (!config_.default_device.empty() && !devices_.count(config_.default_device) && !is_sip_uri(config_.default_device))
    throw std::runtime_error("default_device '" + config_.default_device + "' is neither a configured device nor a SIP URI");
  if (!config_.incoming_device.empty() && config_.incoming_device != "off" && !devices_.count(config_.incoming_device) &&
      !is_sip_uri(config_.incoming_device))
    throw std::runtime_error("incoming_device '" + config_.incoming_device +
                             "' is neither a configured device, a SIP URI nor \"off\"");

  sip::UserAgentOptions o;
  o.listen = config_.sip_listen.empty() ? std::vector<sip::ListenSpec>{*sip::ListenSpec::parse("udp:127.0.0.1:5062")}
                                        : config_.sip_listen;
  if (config_.identity.empty()) {
    const char* user = std::getenv("USER");
    config_.identity = "sip:" + std::string(user && *user ? user : "user") + "@" + o.listen.front().host + ":" +
                       std::to_string(o.listen.front().port);
  }
  if (!is_sip_uri(config_.identity)) throw std::runtime_error("identity '" + config_.identity + "' is not a SIP URI");
  o.identity = config_.identity;
  o.proxy = config_.proxy;
  o.user_agent = "confab-service";
  o.transaction_timeout_ms = config_.transaction_timeout_ms;
  if (!config_.password.empty()) o.credentials.push_back({sip::Uri::parse(config_.identity)->user(), config_.password, ""});
  ua_ = std::make_unique<sip::UserAgent>(loop_, o, *this);
  if (config_.register_at_proxy) {
    if (config_.proxy.empty()) throw std::runtime_error("register = true needs a proxy");
    registration_ = ua_->register_at(config_.identity, config_.proxy, 600);
  }

  ApiServerOptions api;
  if (config_.api_socket.empty()) config_.api_socket = runtime_dir() + "/service.sock";
  if (config_.token_file.empty()) config_.token_file = runtime_dir() + "/token";
  if (socket_answers(config_.api_socket))
    throw std::runtime_error("a service already answers on " + config_.api_socket);
  api.unix_path = config_.api_socket;
  if (!config_.api_tcp.empty() && config_.api_tcp != "off") {
    auto colon = config_.api_tcp.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("api_tcp must be HOST:PORT, not " + config_.api_tcp);
    api.tcp_host = config_.api_tcp.substr(0, colon);
    api.tcp_port = std::atoi(config_.api_tcp.c_str() + colon + 1);
    token_ = write_token_file(config_.token_file);
    api.token = token_;
  }
  api_ = std::make_unique<ApiServer>(loop_, api, *this);
  if (!config_.web_api.empty() && config_.web_api != "off") {
    auto colon = config_.web_api.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("web_api must be HOST:PORT, not " + config_.web_api);
    web_ = WebApi::create(loop_, *this, origins_, config_.web_api.substr(0, colon),
                          static_cast<uint16_t>(std::atoi(config_.web_api.c_str() + colon + 1)), random_hex(32),
                          [this](const std::string& origin) {
                            loop_.post([this, origin] {
                              publish("choices", api::ApiMessage("ApprovalRequest").set("origin", origin));
                            });
                          });
    // The chooser's address with its key, for `confab chooser` (user-only, like the token).
    std::string path = runtime_dir() + "/chooser-url";
    write_private_file(path, web_->chooser_url() + "\n");
  }
  device_runtime_ = std::make_unique<DeviceRuntime>(loop_);
  add_builtin_commands(*this);
  tunnel_ = std::make_unique<Tunnel>(*this, *ua_);
  plugins_ = std::make_unique<PluginLoader>(*this, *tunnel_, *ua_, loop_);
  if (!config_.plugin_dir.empty()) plugins_->load_directory(config_.plugin_dir);
}

ClientService::~ClientService() { shutdown(); }

void ClientService::start() {
  api_->start();
  if (web_) {
    web_->start();
    spdlog::info("device chooser: {}", web_->chooser_url());
  }
  spdlog::info("service {} on {} (API: {}{}{})", config_.identity, ua_->contact(), config_.api_socket,
               api_->tcp_port() ? ", tcp 127.0.0.1:" + std::to_string(api_->tcp_port()) : "",
               devices_.empty() ? "" : ", " + std::to_string(devices_.size()) + " devices");
}

void ClientService::shutdown() {
  if (!ua_) return;
  if (api_) api_->stop();
  if (web_) web_->stop();
  for (auto& [id, c] : std::exchange(choices_, {})) c.decide("", 503, "the service is shutting down");
  if (device_runtime_) device_runtime_->stop();  // pending device completions are dropped
  for (auto& [id, w] : rosters_) w.reset();
  rosters_.clear();
  calls_.clear();  // hangs up what is left
  registration_.reset();
  ua_->shutdown();
  for (auto& [id, d] : devices_) d->stop();  // launched softphones quit, after our goodbyes
  api_.reset();
  web_.reset();
  ua_.reset();
}

void ClientService::add_command(const std::string& name, Command command) { commands_[name] = std::move(command); }

std::vector<std::string> ClientService::command_names() const {
  std::vector<std::string> out;
  for (auto& [name, _] : commands_) out.push_back(name);
  return out;
}

namespace {

// What a third-party web page (an approved origin) may do: place and follow the
// user's calls. Not: raw SIP (Tunnel, plugins), approving origins or answering
// the user's device choices, which stay with local programs and the chooser page.
const std::set<std::string> kWebCommands = {"Join",   "ExternalJoin", "SameDeviceJoin", "Invite",   "Hangup",
                                            "Calls",  "Devices",      "Subscribe",      "Auth"};
const std::set<std::string> kWebEvents = {"calls", "roster"};

bool from_web_page(const ApiConnection& c) { return c.peer().rfind("web:", 0) == 0; }

}  // namespace

void ClientService::on_message(const std::shared_ptr<ApiConnection>& from, api::ApiMessage message) {
  Reply reply(from, message.attr("tag"));
  if (from_web_page(*from) && commands_.count(message.name) && !kWebCommands.count(message.name)) {
    spdlog::warn("api {}: <{}> refused to a web page", from->peer(), message.name);
    return reply.error(403, "<" + message.name + "> is not available to web pages");
  }
  auto it = commands_.find(message.name);
  if (it == commands_.end()) {
    spdlog::info("api {}: unknown command <{}>", from->peer(), message.name);
    std::string known;
    for (auto& n : command_names()) known += (known.empty() ? "" : ", ") + n;
    return reply.error(501, "unknown command <" + message.name + ">; known: " + known);
  }
  try {
    it->second(message, reply);
  } catch (const std::exception& e) {
    spdlog::error("api {}: <{}> failed: {}", from->peer(), message.name, e.what());
    reply.error(500, e.what());
  }
}

void ClientService::on_closed(const std::shared_ptr<ApiConnection>& connection) { clients_.erase(connection->id()); }

bool ClientService::subscribe(const std::shared_ptr<ApiConnection>& client, const std::set<std::string>& events) {
  if (from_web_page(*client))
    for (auto& e : events)
      if (!kWebEvents.count(e)) return false;
  if (events.empty()) {
    clients_.erase(client->id());
    return true;
  }
  clients_[client->id()] = Client{client, events};
  return true;
}

void ClientService::publish(const std::string& kind, const api::ApiMessage& event) {
  for (auto& [id, c] : clients_)
    if (c.events.count(kind)) c.connection->send(event);
}

ServiceCall* ClientService::find_call(const std::string& id) const {
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : it->second.get();
}

void ClientService::on_request(sip::IncomingRequest request) { tunnel_->on_request(std::move(request)); }

ThirdPartyCall* ClientService::current_call() const {
  auto it = calls_.find(current_);
  if (it == calls_.end() || !it->second->active()) return nullptr;
  return dynamic_cast<ThirdPartyCall*>(it->second.get());
}

api::ApiMessage ClientService::describe(const ServiceCall& call, std::string_view state) const {
  api::ApiMessage m("Call");
  m.set("id", call.id()).set("state", state).set("mode", mode_name(call.mode()));
  m.set("device", call.device_id()).set("target", call.target_uri());
  if (call.id() == current_) m.set("current", "true");
  if (auto* loop_call = dynamic_cast<const ThirdPartyCall*>(&call); loop_call && loop_call->incoming())
    m.set("direction", "incoming");
  return m;
}

std::vector<std::pair<std::string, std::string>> ClientService::device_list() const {
  std::vector<std::pair<std::string, std::string>> list;
  for (auto& [id, d] : devices_) list.emplace_back(id, d->name());
  return list;
}

Device* ClientService::resolve_device(const std::string& dev, std::shared_ptr<Device>& adhoc) const {
  if (auto it = devices_.find(dev); it != devices_.end()) return it->second.get();
  if (!is_sip_uri(dev)) return nullptr;
  adhoc = device_for_uri(dev);
  return adhoc.get();
}

void ClientService::place_call(const JoinRequest& original, CallPlaced done) {
  std::string error;
  JoinRequest request = original;
  request.target = resolve_target(original.target, config_.tel_gateway, error);
  if (request.target.empty()) return done(400, error, {});
  std::string dev = request.device.empty() ? config_.default_device : request.device;
  if (dev.empty()) return done(409, "no device: name one with <Use dev=\"..\"/> or set default_device", {});
  std::shared_ptr<Device> adhoc;
  Device* device = resolve_device(dev, adhoc);
  if (!device) return done(404, "unknown device '" + dev + "' (see <Devices/>)", {});
  CallMode mode = request.mode.value_or(device->default_mode());
  if (device->dials_itself() && mode == CallMode::Loop)
    return done(400, "device " + device->id() + " (" + std::string(device->kind()) +
                         ") calls the target itself: transfer mode only", {});
  // The device gets ready first (a softphone may have to be started), without blocking.
  uint64_t placing = next_placing_++;
  auto cancelled = std::make_shared<bool>(false);
  placing_[placing] = [cancelled, done] {
    *cancelled = true;
    done(487, "cancelled by Hangup while the device was getting ready", {});
  };
  device->prepare(*device_runtime_, [this, device, adhoc, mode, request, done, placing, cancelled](
                                        int status, const std::string& reason) {
    if (*cancelled || !ua_ || device_runtime_->stopped()) return;
    placing_.erase(placing);
    if (status >= 300) return done(status, "device " + device->id() + ": " + reason, {});
    start_call(*device, mode, request, done);
  });
}

void ClientService::start_call(Device& device, CallMode mode, const JoinRequest& request, CallPlaced done) {
  std::string id = "c" + std::to_string(next_call_++);
  sip::CallOptions options;
  options.from = config_.identity;
  std::unique_ptr<ServiceCall> call;
  if (device.dials_itself()) {
    call = std::make_unique<ClickToDialCall>(*device_runtime_, *this, id, device, request.target);
  } else if (mode == CallMode::Loop) {
    auto loop_call = std::make_unique<ThirdPartyCall>(loop_, *ua_, *this, id, device.id(), device.sip_uri(),
                                                      request.target, options, std::chrono::seconds(config_.keepalive_s));
    loop_call->set_leg_listener(tunnel_.get());  // requests and responses in its dialogs the call does not use
    call = std::move(loop_call);
  } else
    call = std::make_unique<TransferCall>(loop_, *ua_, *this, id, device.id(), device.sip_uri(), request.target,
                                          options);
  auto* raw = call.get();
  calls_[id] = std::move(call);
  publish("calls", describe(*raw, "calling"));
  raw->start([done = std::move(done), id](int status, const std::string& reason) { done(status, reason, id); });
}

void ClientService::join(const JoinRequest& request, const Reply& reply) {
  place_call(request, [this, reply, request](int status, const std::string& reason, const std::string& id) {
    if (status >= 300) return reply.error(status, reason);
    auto it = calls_.find(id);
    CallMode mode = it != calls_.end() ? it->second->mode() : CallMode::Loop;
    reply.ok(mode == CallMode::Loop ? "connected" : "transferred",
             {{"call", id},
              {"target", request.target},
              {"device", it != calls_.end() ? it->second->device_id() : request.device},
              {"mode", std::string(mode_name(mode))}});
  });
}

void ClientService::same_device_join(const std::string& original, const Reply& reply) {
  std::string error, target = resolve_target(original, config_.tel_gateway, error);
  if (target.empty()) return reply.error(400, error);
  auto* call = current_call();
  if (!call) return join({target, "", CallMode::Loop}, reply);  // nothing to move: as ExternalJoin
  bool replaces = same_server(call->target_uri(), target);
  call->move_to(target, replaces, [reply, id = call->id(), target](int status, const std::string& reason,
                                                                   const std::string& how) {
    if (status < 300)
      reply.ok("moved", {{"call", id}, {"target", target}, {"how", how}});
    else
      reply.error(status, reason);
  });
}

void ClientService::invite(const std::vector<std::string>& uris, const Reply& reply) {
  if (uris.empty()) return reply.error(400, "<Invite> needs at least one <Add id=\"..\"/>");
  for (auto& u : uris)
    if (!is_sip_uri(u)) return reply.error(400, "<Add id> must be a sip: or sips: URI, not '" + u + "'");
  auto add_all = [this, uris, reply](ThirdPartyCall& call, bool created) {
    auto remaining = std::make_shared<size_t>(uris.size());
    auto results = std::make_shared<std::vector<api::ApiMessage>>();
    for (auto& u : uris) {
      call.refer_target(u, [=, conference = call.target_uri(), id = call.id()](int status, const std::string& why) {
        results->push_back(api::ApiMessage("Added").set("id", u).set("code", std::to_string(status)).set("reason", why));
        if (--*remaining) return;
        bool all_ok = true;
        for (auto& f : *results) all_ok = all_ok && std::stoi(f.attr("code")) < 300;
        std::vector<std::pair<std::string, std::string>> ids{{"call", id}, {"conference", conference}};
        if (all_ok)
          reply.ok(created ? "conference created, invitations sent" : "invitations sent", ids, *results);
        else
          reply.error(502, "the conference refused some invitations (see <Added>)");
      });
    }
  };
  if (auto* call = current_call()) return add_all(*call, false);
  // No current conference: an ad-hoc one on the default device, then the invitations.
  auto me = sip::Uri::parse(config_.identity);
  std::string conference = "sip:" + (me && !me->user().empty() ? me->user() : "conf") + "-" + random_hex(8) + "@" +
                           config_.conference_server;
  spdlog::info("service: ad-hoc conference {}", conference);
  place_call({conference, "", CallMode::Loop},
             [this, reply, add_all](int status, const std::string& reason, const std::string& id) {
               auto it = calls_.find(id);
               auto* call = it == calls_.end() ? nullptr : dynamic_cast<ThirdPartyCall*>(it->second.get());
               if (status >= 300 || !call) return reply.error(status >= 300 ? status : 500, "ad-hoc conference: " + reason);
               add_all(*call, true);
             });
}

bool ClientService::has_subscriber(const std::string& kind) const {
  for (auto& [id, c] : clients_)
    if (c.events.count(kind)) return true;
  return false;
}

void ClientService::external_join(const std::string& target, const Reply& reply) {
  std::string error;
  if (resolve_target(target, config_.tel_gateway, error).empty()) return reply.error(400, error);
  if (devices_.empty() && config_.default_device.empty())
    return reply.error(409, "no device to choose from: configure devices in service.toml");
  if (has_subscriber("choices")) {  // a chooser page is open: ask there
    PendingChoice choice;
    choice.target = target;
    choice.from = reply.connection()->peer();
    choice.decide = [this, target, reply](const std::string& device, int status, const std::string& reason) {
      if (device.empty()) return reply.error(status, reason);
      join({target, device, std::nullopt}, reply);
    };
    std::string id = ask_user(std::move(choice));
    spdlog::info("service: join {} waits for the user's choice {}", target, id);
    return;
  }
  if (DesktopDialog::available() && !devices_.empty()) {
    DesktopDialog::Question question{"Join " + target + " on which device?", "Join", "Cancel",
                                     static_cast<int>(config_.choice_timeout_s)};
    bool asked = dialog_.ask(question, device_list(), [this, target, reply](const DesktopDialog::Answer& answer) {
      if (answer.failed && !config_.default_device.empty()) return join({target, "", std::nullopt}, reply);
      if (answer.failed) return reply.error(503, "the desktop dialog could not be shown and there is no default_device");
      if (answer.timed_out) return reply.error(408, "the user did not answer");
      if (answer.device.empty()) return reply.error(603, "the user declined");
      if (!devices_.count(answer.device))
        return reply.error(500, "the dialog returned an unknown device '" + answer.device + "'");
      join({target, answer.device, std::nullopt}, reply);
    });
    if (asked) return;
  }
  if (config_.default_device.empty())
    return reply.error(409, "no device chosen: open the device chooser (confab chooser) or set default_device");
  join({target, "", std::nullopt}, reply);
}

std::string ClientService::ask_user(PendingChoice choice) {
  std::string id = "k" + std::to_string(next_choice_++);
  choice.timeout = std::make_unique<sip::Timer>(loop_);
  choice.timeout->once(std::chrono::seconds(config_.choice_timeout_s), [this, id] {
    auto it = choices_.find(id);
    if (it == choices_.end()) return;
    auto decide = std::move(it->second.decide);
    finish_choice(id, "timeout");
    decide("", 408, "no device chosen in time");
  });
  auto& stored = choices_[id] = std::move(choice);
  publish("choices", describe(id, stored).add(devices()));
  return id;
}

api::ApiMessage ClientService::describe(const std::string& id, const PendingChoice& choice) const {
  api::ApiMessage m("ChoiceRequest");
  m.set("choice", id).set("target", choice.target);
  if (choice.incoming)
    m.set("incoming", "true");
  else
    m.set("from", choice.from);
  return m;
}

void ClientService::choose(const std::string& choice, const std::string& device, const Reply& reply) {
  auto it = choices_.find(choice);
  if (it == choices_.end()) return reply.error(404, "no pending choice " + choice);
  if (!device.empty() && !devices_.count(device) && !is_sip_uri(device))
    return reply.error(404, "unknown device '" + device + "'");
  auto decide = std::move(it->second.decide);
  finish_choice(choice, device.empty() ? "declined" : "chosen");
  decide(device, device.empty() ? 603 : 200, device.empty() ? "the user declined" : "chosen");
  reply.ok(device.empty() ? "declined" : "chosen", {{"choice", choice}});
}

void ClientService::finish_choice(const std::string& choice, const std::string& outcome) {
  choices_.erase(choice);
  publish("choices", api::ApiMessage("ChoiceDone").set("choice", choice).set("outcome", outcome));
}

void ClientService::approve_origin(const std::string& origin, bool yes, const Reply& reply) {
  if (!origins_.approve(origin, yes))
    return reply.error(400, "'" + origin + "' is not a web origin (scheme://host[:port])");
  spdlog::info("service: web origin {} {}", origin, yes ? "approved" : "refused");
  publish("choices", api::ApiMessage("ApprovalDone").set("origin", origin).set("approved", yes ? "true" : "false"));
  reply.ok(yes ? "approved" : "revoked", {{"origin", origin}});
}

api::ApiMessage ClientService::state() const {
  api::ApiMessage s("State");
  s.add(devices());
  s.add(calls());
  for (auto& [id, c] : choices_) s.add(describe(id, c));
  for (auto& o : origins_.pending_list()) s.add(api::ApiMessage("ApprovalRequest").set("origin", o));
  for (auto& o : origins_.approved_list()) s.add(api::ApiMessage("Approved").set("origin", o));
  for (auto& [id, w] : rosters_) s.add(w->snapshot());
  return s;
}

std::string ClientService::chooser_url() const { return web_ ? web_->chooser_url() : std::string(); }

void ClientService::hangup(const std::string& call_id, const Reply& reply) {
  std::string id = call_id.empty() ? current_ : call_id;
  auto it = calls_.find(id);
  // No call named: the current call, and the Joins still waiting for their device.
  size_t cancelled = call_id.empty() ? placing_.size() : 0;
  if (cancelled) {
    spdlog::info("service: Hangup cancels {} join(s) waiting for their device", cancelled);
    for (auto& [n, cancel] : std::exchange(placing_, {})) cancel();
  }
  if (id.empty() || it == calls_.end() || it->second->ended()) {
    if (cancelled) return reply.ok("cancelled", {{"cancelled", std::to_string(cancelled)}});
    return reply.error(404, call_id.empty() ? "no current call" : "no call " + call_id);
  }
  it->second->hangup();
  std::string device = it->second->device_id();
  bool more = false;  // other calls of the service on that device
  for (auto& [other, c] : calls_) more = more || (other != id && !c->ended() && c->device_id() == device);
  if (auto d = devices_.find(device); d != devices_.end() && !more) d->second->calls_ended(*device_runtime_);
  std::vector<std::pair<std::string, std::string>> ids{{"call", id}};
  if (cancelled) ids.emplace_back("cancelled", std::to_string(cancelled));
  reply.ok("hung up", ids);
}

api::ApiMessage ClientService::calls() const {
  api::ApiMessage list("Calls");
  for (auto& [id, c] : calls_)
    if (!c->ended()) list.add(describe(*c, c->active() ? "active" : "connecting"));
  return list;
}

api::ApiMessage ClientService::devices() const {
  api::ApiMessage list("Devices");
  for (auto& [id, d] : devices_) {
    api::ApiMessage m("Device");
    m.set("id", id).set("kind", d->kind()).set("name", d->name()).set("uri", d->sip_uri());
    m.set("mode", mode_name(d->default_mode()));
    if (id == config_.default_device) m.set("default", "true");
    list.add(m);
  }
  return list;
}

void ClientService::watch_roster(ThirdPartyCall& call) {
  auto& slot = rosters_[call.id()];
  if (slot) slot->leave();
  slot = std::make_unique<RosterWatch>(*ua_, call.target_uri(), call.id(),
                                       [this](const api::ApiMessage& event) { publish("roster", event); });
}

void ClientService::on_call_state(ServiceCall& call, std::string_view state, int status, std::string_view reason) {
  auto* loop_call = dynamic_cast<ThirdPartyCall*>(&call);
  if (state == "active" && loop_call) current_ = call.id();
  auto event = describe(call, state);
  event.set("code", std::to_string(status)).set("reason", reason);
  publish("calls", event);

  // A conference's roster; an incoming call's target is the caller, not a conference.
  if (loop_call && (state == "moved" || (state == "active" && !loop_call->incoming()))) {
    watch_roster(*loop_call);
  } else if (state == "ended") {
    if (auto it = rosters_.find(call.id()); it != rosters_.end()) {
      it->second->leave();
      rosters_.erase(it);
    }
    if (current_ == call.id()) {
      current_.clear();
      for (auto& [id, c] : calls_)  // another active loop-mode call becomes current
        if (id != call.id() && c->active() && c->mode() == CallMode::Loop) current_ = id;
    }
  }
}

void ClientService::on_call_gone(ServiceCall& call) {
  loop_.post([this, id = call.id()] { calls_.erase(id); });
}

}  // namespace confab::service
