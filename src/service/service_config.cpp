#include "service/service_config.h"

#include "base/host_port.h"
#include "base/toml_file.h"
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

void load_service_config(const std::string& path, ServiceConfig& c) {
  toml::table root = base::parse_toml_file(path);
  try {
    if (auto t = root["service"]) {
      if (t["sip"]) c.sip_listen.clear();
      for (auto& s : base::toml_strings(t["sip"], "service.sip")) {
        auto spec = sip::ListenSpec::parse(s);
        if (!spec) throw std::runtime_error("service.sip: bad address '" + s + "'");
        c.sip_listen.push_back(*spec);
      }
      auto str = [&](const char* key, std::string& out) {
        auto node = t[key];
        if (!node) return;
        auto v = node.value<std::string>();
        if (!v) throw std::runtime_error(std::string("service.") + key + " must be a string");
        out = *v;
      };
      str("identity", c.identity);
      str("proxy", c.proxy);
      str("password", c.password);
      str("conference_server", c.conference_server);
      str("default_device", c.default_device);
      str("incoming_device", c.incoming_device);
      if (t["incoming_from"])
        c.incoming_from = parse_networks(base::toml_strings(t["incoming_from"], "service.incoming_from"),
                                         "service.incoming_from");
      str("tel_gateway", c.tel_gateway);
      str("api_socket", c.api_socket);
      str("api_tcp", c.api_tcp);
      str("token_file", c.token_file);
      str("web_api", c.web_api);
      str("origins_file", c.origins_file);
      if (auto v = t["keepalive_s"].value<int64_t>()) {
        if (*v < 0) throw std::runtime_error("service.keepalive_s must not be negative");
        c.keepalive_s = static_cast<unsigned>(*v);
      }
      if (auto v = t["leave_grace_s"].value<int64_t>()) {
        if (*v < 0) throw std::runtime_error("service.leave_grace_s must not be negative");
        c.leave_grace_s = static_cast<unsigned>(*v);
      }
      if (auto v = t["transaction_timeout_ms"].value<int64_t>()) {
        if (*v < 1000) throw std::runtime_error("service.transaction_timeout_ms must be at least 1000");
        c.transaction_timeout_ms = static_cast<unsigned>(*v);
      }
      if (auto v = t["choice_timeout_s"].value<int64_t>()) {
        if (*v <= 0) throw std::runtime_error("service.choice_timeout_s must be positive");
        c.choice_timeout_s = static_cast<unsigned>(*v);
      }
      str("plugin_dir", c.plugin_dir);
      if (auto v = t["register"].value<bool>()) c.register_at_proxy = *v;
    }
    if (auto* devices = root["devices"].as_table()) {
      for (auto& [key, node] : *devices) {
        auto* table = node.as_table();
        if (!table) throw std::runtime_error("devices." + std::string(key.str()) + " must be a table");
        DeviceConfig d;
        d.id = std::string(key.str());
        for (auto& [k, v] : *table) {
          auto s = v.value<std::string>();
          if (auto* number = v.as_integer()) s = std::to_string(number->get());  // sip_port = 7300
          if (!s) throw std::runtime_error("devices." + d.id + "." + std::string(k.str()) + " must be a string or an integer");
          if (k == "kind")
            d.kind = *s;
          else if (k == "name")
            d.name = *s;
          else
            d.settings[std::string(k.str())] = *s;
        }
        c.devices.push_back(std::move(d));
      }
    }
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
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

}  // namespace confab::service
