#include "service/service_config.h"

#include "base/host_port.h"
#include "base/secret_input.h"
#include "base/toml_file.h"
#include "service/devices/device_registry.h"
#include "service/paths.h"
#include "sip/uri.h"

#include <cstdlib>
#include <stdexcept>

namespace confab::service {

std::vector<base::IpNetwork> parse_networks(const std::vector<std::string>& texts, const std::string& what) {
  std::vector<base::IpNetwork> networks;
  for (auto& text : texts) {
    auto n = base::IpNetwork::parse(text);
    if (!n) throw std::runtime_error(what + ": '" + text + "' is not an IP address or network (e.g. 10.0.0.0/8)");
    networks.push_back(*n);
  }
  return networks;
}

namespace {

// The keys of the kinds device.cpp reads itself (softphone and http devices
// refuse unknown settings of theirs when they are made).
void check_plain_device_keys(const base::TomlTable& device, const std::string& kind) {
  if (kind == "sip") device.only({"kind", "name", "uri", "mode"});
  if (kind == "pstn") device.only({"kind", "name", "number", "gateway", "mode"});
}

}  // namespace

const std::vector<base::ConfigSetting>& service_settings() {
  static const std::vector<base::ConfigSetting> settings = {
      {"service.sip", "--sip"},
      {"service.identity", "--identity"},
      {"service.proxy", "--proxy"},
      {"service.register", "--register"},
      {"service.password", "--password"},
      {"service.password_file", "--password-file"},
      {"service.conference_server", "--conference-server"},
      {"service.default_device", "--default-device"},
      {"service.incoming_device", "--incoming-device"},
      {"service.incoming_from", "--incoming-from"},
      {"service.tel_gateway", "--tel-gateway"},
      {"service.api_socket", "--api-socket"},
      {"service.api_tcp", "--api-tcp"},
      {"service.token_file", "--token-file"},
      {"service.web_api", "--web-api"},
      {"service.origins_file", "--origins-file"},
      {"service.choice_timeout_s", "--choice-timeout"},
      {"service.transaction_timeout_ms", "--transaction-timeout"},
      {"service.keepalive_s", "--keepalive"},
      {"service.leave_grace_s", "--leave-grace"},
      {"service.plugin_dir", "--plugin-dir"},
      {"service.sip_trace", "--sip-trace"},
      // A device's keys depend on its kind; the device checks them (unknown ones
      // too) when it is made, at start and by --check-config.
      {"devices.*", "--device"},
  };
  return settings;
}

void load_service_config(const std::string& path, ServiceConfig& c) {
  toml::table root = base::parse_toml_file(path);
  base::reject_unknown_keys(path, root, service_settings());
  base::TomlTable top(path, root, "");
  auto t = top.table("service");
  if (auto sip = t.strings("sip")) {
    c.sip_listen.clear();
    for (auto& s : *sip) {
      auto spec = sip::ListenSpec::parse(s);
      if (!spec) t.fail("sip", "bad address '" + s + "' (want [udp:|tcp:]HOST:PORT)");
      c.sip_listen.push_back(*spec);
    }
  }
  using StringSetting = std::pair<const char*, std::string*>;
  for (auto [key, out] : std::initializer_list<StringSetting>{{"identity", &c.identity}, {"proxy", &c.proxy}, {"password", &c.password},
                          {"conference_server", &c.conference_server}, {"default_device", &c.default_device},
                          {"incoming_device", &c.incoming_device}, {"tel_gateway", &c.tel_gateway},
                          {"api_socket", &c.api_socket}, {"api_tcp", &c.api_tcp}, {"token_file", &c.token_file},
                          {"web_api", &c.web_api}, {"origins_file", &c.origins_file}, {"plugin_dir", &c.plugin_dir},
                          {"sip_trace", &c.sip_trace}})
    if (auto v = t.string(key)) *out = *v;
  if (auto file = t.string("password_file"); file && !file->empty()) {
    if (t.string("password").value_or("") != "") t.fail("password_file", "give password or password_file, not both");
    try {
      c.password = base::read_secret_file(*file, "password_file");
    } catch (const std::runtime_error& e) {
      t.fail("password_file", e.what());
    }
  }
  if (auto networks = t.strings("incoming_from")) {
    try {
      c.incoming_from = parse_networks(*networks, "incoming_from");
    } catch (const std::runtime_error& e) {
      t.fail("incoming_from", e.what());
    }
  }
  c.keepalive_s = static_cast<unsigned>(t.integer("keepalive_s", c.keepalive_s, 0, 86400, " s (0: off)"));
  c.leave_grace_s = static_cast<unsigned>(t.integer("leave_grace_s", c.leave_grace_s, 0, 86400, " s (0: never)"));
  c.transaction_timeout_ms =
      static_cast<unsigned>(t.integer("transaction_timeout_ms", c.transaction_timeout_ms, 1000, 600000, " ms"));
  c.choice_timeout_s = static_cast<unsigned>(t.integer("choice_timeout_s", c.choice_timeout_s, 1, 86400, " s"));
  if (auto v = t.boolean("register")) c.register_at_proxy = *v;
  auto devices = top.table("devices");
  for (auto& [key, node] : devices.items()) {
    std::string id(key.str());
    auto* table = node.as_table();
    if (!table) devices.fail(id, "must be a table ([devices." + id + "] with kind = \"sip\", ...), " + base::shown_value(node));
    DeviceConfig d;
    d.id = id;
    for (auto& [k, v] : *table) {
      auto s = v.value<std::string>();
      if (auto* number = v.as_integer()) s = std::to_string(number->get());  // sip_port = 7300
      if (!s) base::fail_at(path, v.source(), "devices." + id + "." + std::string(k.str()), "must be a string or a whole number, " + base::shown_value(v));
      if (k == "kind")
        d.kind = *s;
      else if (k == "name")
        d.name = *s;
      else
        d.settings[std::string(k.str())] = *s;
    }
    check_plain_device_keys(devices.table(id), d.kind);
    c.devices.push_back(std::move(d));
  }
}

void complete_service_config(ServiceConfig& c) {
  if (c.sip_listen.empty()) c.sip_listen.push_back(*sip::ListenSpec::parse("udp:127.0.0.1:5062"));
  if (c.identity.empty()) {
    const char* user = std::getenv("USER");
    auto& first = c.sip_listen.front();
    c.identity = "sip:" + std::string(user && *user ? user : "user") + "@" + sip::host_port(first.host, std::to_string(first.port));
  }
  if (!sip::is_sip_uri(c.identity)) throw std::runtime_error("identity '" + c.identity + "' is not a SIP URI");
  if (c.register_at_proxy && c.proxy.empty()) throw std::runtime_error("register = true needs a proxy");
  if (c.api_socket.empty()) c.api_socket = runtime_dir() + "/service.sock";
  if (c.token_file.empty()) c.token_file = runtime_dir() + "/token";
  if (c.api_tcp == "off") c.api_tcp.clear();
  if (c.web_api == "off") c.web_api.clear();
  if (!c.api_tcp.empty()) base::parse_host_port(c.api_tcp, "api_tcp");
  if (!c.web_api.empty()) base::parse_host_port(c.web_api, "web_api");
}

void check_service_config(ServiceConfig& c) {
  complete_service_config(c);
  DeviceRegistry devices(c.devices, c.default_device);
  if (!c.incoming_device.empty() && c.incoming_device != "off" && !devices.known(c.incoming_device))
    throw std::runtime_error("incoming_device '" + c.incoming_device +
                             "' is neither a configured device, a SIP URI nor \"off\"");
}

}  // namespace confab::service
