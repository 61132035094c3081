#include "proxy/proxy_config.h"

#include <stdexcept>

#include "base/host_port.h"
#include "base/toml_file.h"
#include "proxy/digest_auth.h"

namespace confab::proxy {

const std::vector<base::ConfigSetting>& proxy_settings() {
  static const std::vector<base::ConfigSetting> settings = {
      {"proxy.listen", "--listen"},
      {"proxy.db", "--db"},
      {"proxy.domains", "--domain"},
      {"proxy.routes.*", "--route"},
      {"proxy.record_route", "--record-route"},
      {"proxy.max_message_size", "--max-message-size"},
      {"proxy.transaction_timeout_ms", "--transaction-timeout"},
      {"proxy.registrar.min_expires", "--min-expires"},
      {"proxy.registrar.max_expires", "--max-expires"},
      {"proxy.registrar.default_expires", "--default-expires"},
      {"proxy.registrar.max_contacts", "--max-contacts"},
      {"proxy.auth.register", "--auth-register"},
      {"proxy.auth.invite", "--auth-invite"},
      {"proxy.auth.algorithms", "--auth-algorithms"},
      {"proxy.auth.realm", "--realm"},
      {"proxy.auth.nonce_ttl", "--nonce-ttl"},
      {"proxy.sip_trace", "--sip-trace"},
      {"proxy.metrics", "--metrics"},
      {"proxy.control", "--control"},
  };
  return settings;
}

void add_route(ProxyConfig& config, const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw std::runtime_error("route must be DOMAIN=HOST:PORT, got '" + spec + "'");
  config.routes[spec.substr(0, eq)] = spec.substr(eq + 1);
}

void load_proxy_config(const std::string& path, ProxyConfig& c) {
  toml::table root = base::parse_toml_file(path);
  base::reject_unknown_keys(path, root, proxy_settings());
  auto p = base::TomlTable(path, root, "").table("proxy");
  if (auto listen = p.strings("listen")) {
    for (auto& s : *listen) {
      auto spec = sip::ListenSpec::parse(s);
      if (!spec) p.fail("listen", "bad address '" + s + "' (want udp:HOST:PORT or tcp:HOST:PORT)");
      c.listen.push_back(*spec);
    }
  }
  if (auto v = p.string("db")) c.db_path = *v;
  if (auto v = p.string("sip_trace")) c.sip_trace = *v;
  if (auto v = p.string("control")) c.control = *v;
  if (auto v = p.string("metrics")) {
    if (!base::split_host_port(*v)) p.fail("metrics", "must be HOST:PORT (e.g. 127.0.0.1:9060), not '" + *v + "'");
    c.metrics = *v;
  }
  if (auto domains = p.strings("domains")) c.domains.insert(c.domains.end(), domains->begin(), domains->end());
  auto routes = p.table("routes");
  for (auto& [domain, node] : routes.items()) {
    auto hop = routes.string(domain.str());
    if (hop->empty()) routes.fail(domain.str(), "must be HOST:PORT[;transport=tcp], not empty");
    c.routes[std::string(domain.str())] = *hop;
  }
  if (auto v = p.boolean("record_route")) c.record_route = *v;
  c.max_message_size = static_cast<size_t>(p.integer("max_message_size", static_cast<int64_t>(c.max_message_size), 1024,
                                                     16 * 1024 * 1024, " bytes"));
  c.transaction_timeout_ms =
      static_cast<unsigned>(p.integer("transaction_timeout_ms", c.transaction_timeout_ms, 500, 600000, " ms"));
  auto r = p.table("registrar");
  c.registrar.min_expires = r.integer("min_expires", c.registrar.min_expires, 0, 86400 * 365, " s");
  c.registrar.max_expires = r.integer("max_expires", c.registrar.max_expires, 1, 86400 * 365, " s");
  c.registrar.default_expires = r.integer("default_expires", c.registrar.default_expires, 1, 86400 * 365, " s");
  c.registrar.max_contacts = static_cast<size_t>(
      r.integer("max_contacts", static_cast<int64_t>(c.registrar.max_contacts), 1, 10000, " contacts"));
  auto a = p.table("auth");
  if (auto v = a.boolean("register")) c.auth_register = *v;
  if (auto v = a.boolean("invite")) c.auth_invite = *v;
  if (auto v = a.strings("algorithms")) {
    for (auto& name : *v)
      if (!parse_digest_algorithm(name)) a.fail("algorithms", "unknown digest algorithm '" + name + "' (MD5 or SHA-256)");
    c.auth_algorithms = *v;
  }
  if (auto v = a.string("realm")) c.realm = *v;
  c.nonce_ttl = a.integer("nonce_ttl", c.nonce_ttl, 10, 86400, " s");
}

void check_proxy_config(const ProxyConfig& c) {
  for (auto& name : c.auth_algorithms)
    if (!parse_digest_algorithm(name))
      throw std::invalid_argument("unknown digest algorithm '" + name + "' (MD5 or SHA-256)");
  auto& r = c.registrar;
  if (r.min_expires > r.max_expires || r.default_expires < r.min_expires || r.default_expires > r.max_expires)
    throw std::invalid_argument("registrar expiries must be min_expires <= default_expires <= max_expires, not " +
                                std::to_string(r.min_expires) + ", " + std::to_string(r.default_expires) + ", " +
                                std::to_string(r.max_expires));
}

}  // namespace confab::proxy
