#include "proxy/proxy_config.h"

#include "base/toml_file.h"

#include <stdexcept>

namespace confab::proxy {


void add_route(ProxyConfig& config, const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw std::runtime_error("route must be DOMAIN=HOST:PORT, got '" + spec + "'");
  config.routes[spec.substr(0, eq)] = spec.substr(eq + 1);
}

void load_proxy_config(const std::string& path, ProxyConfig& c) {
  toml::table root = base::parse_toml_file(path);
  auto p = root["proxy"];
  if (!p) return;
  try {
    for (auto& s : base::toml_strings(p["listen"], "proxy.listen")) {
      auto spec = sip::ListenSpec::parse(s);
      if (!spec) throw std::runtime_error("proxy.listen: bad address '" + s + "'");
      c.listen.push_back(*spec);
    }
    if (auto v = p["db"].value<std::string>()) c.db_path = *v;
    for (auto& d : base::toml_strings(p["domains"], "proxy.domains")) c.domains.push_back(d);
    if (auto* routes = p["routes"].as_table())
      for (auto& [k, v] : *routes) {
        auto hop = v.value<std::string>();
        if (!hop) throw std::runtime_error("proxy.routes values must be strings");
        c.routes[std::string(k.str())] = *hop;
      }
    if (auto v = p["record_route"].value<bool>()) c.record_route = *v;
    if (auto v = p["max_message_size"].value<int64_t>()) c.max_message_size = static_cast<size_t>(*v);
    if (auto v = p["transaction_timeout_ms"].value<int64_t>()) c.transaction_timeout_ms = static_cast<unsigned>(*v);
    auto r = p["registrar"];
    if (auto v = r["min_expires"].value<int64_t>()) c.registrar.min_expires = *v;
    if (auto v = r["max_expires"].value<int64_t>()) c.registrar.max_expires = *v;
    if (auto v = r["default_expires"].value<int64_t>()) c.registrar.default_expires = *v;
    if (auto v = r["max_contacts"].value<int64_t>()) c.registrar.max_contacts = static_cast<size_t>(*v);
    auto a = p["auth"];
    if (auto v = a["register"].value<bool>()) c.auth_register = *v;
    if (auto v = a["invite"].value<bool>()) c.auth_invite = *v;
    if (a["algorithms"]) c.auth_algorithms = base::toml_strings(a["algorithms"], "proxy.auth.algorithms");
    if (auto v = a["realm"].value<std::string>()) c.realm = *v;
    if (auto v = a["nonce_ttl"].value<int64_t>()) c.nonce_ttl = *v;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace confab::proxy
