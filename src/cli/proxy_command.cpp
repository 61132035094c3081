// confab proxy: run the proxy/registrar, list registrations, manage users.
#include <chrono>
#include <iostream>

#include "base/log.h"
#include "cli/commands.h"
#include "proxy/digest_auth.h"
#include "proxy/location_store.h"
#include "proxy/proxy_server.h"
#include "sip/event_loop.h"

namespace confab::cli {

namespace {

struct ProxyArgs {
  std::vector<std::string> listen;
  std::string db;
  std::vector<std::string> domains;
  std::vector<std::string> routes;
  std::string config;
  bool list = false;
  bool auth_register = false;
  bool auth_invite = false;
  std::string realm;
  std::vector<std::string> algorithms;
  unsigned transaction_timeout_ms = 0;
  // adduser / deluser
  std::string user, password;
};

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

proxy::ProxyConfig build_config(const ProxyArgs& a) {
  proxy::ProxyConfig c;
  if (!a.config.empty()) proxy::load_proxy_config(a.config, c);
  if (!a.listen.empty()) {
    c.listen.clear();
    for (auto& l : a.listen) {
      auto spec = sip::ListenSpec::parse(l);
      if (!spec) throw std::runtime_error("bad --listen '" + l + "' (want udp:HOST:PORT or tcp:HOST:PORT)");
      c.listen.push_back(*spec);
    }
  }
  if (c.listen.empty()) {
    c.listen.push_back(*sip::ListenSpec::parse("udp:127.0.0.1:5060"));
    c.listen.push_back(*sip::ListenSpec::parse("tcp:127.0.0.1:5060"));
  }
  if (!a.db.empty()) c.db_path = a.db;
  for (auto& d : a.domains) c.domains.push_back(d);
  for (auto& r : a.routes) proxy::add_route(c, r);
  if (a.auth_register) c.auth_register = true;
  if (a.auth_invite) c.auth_invite = true;
  if (!a.realm.empty()) c.realm = a.realm;
  if (!a.algorithms.empty()) c.auth_algorithms = a.algorithms;
  if (a.transaction_timeout_ms) c.transaction_timeout_ms = a.transaction_timeout_ms;
  return c;
}

std::string realm_for(const proxy::ProxyConfig& c) {
  if (!c.realm.empty()) return c.realm;
  if (!c.domains.empty()) return c.domains.front();
  return c.listen.front().host;
}

int list_registrations(const proxy::ProxyConfig& c) {
  auto now = unix_now();
  auto bindings = proxy::read_bindings(c.db_path, now);
  if (bindings.empty()) {
    std::cout << "no registrations\n";
    return 0;
  }
  for (auto& b : bindings)
    std::cout << b.aor << " " << b.contact << " expires=" << (b.expires_at - now) << " q=" << b.q
              << " from=" << b.source << (b.user_agent.empty() ? "" : " ua=\"" + b.user_agent + "\"") << "\n";
  return 0;
}

int run_proxy(const GlobalOptions& g, const proxy::ProxyConfig& c) {
  base::init_logging("proxy", g.log_level);
  sip::EventLoop loop;
  proxy::ProxyServer server(loop, c);
  std::string where;
  for (auto& l : c.listen) where += " " + l.str();
  spdlog::info("proxy listening on{} (db {}, {} domain(s), {} route(s){})", where, c.db_path, c.domains.size(),
               c.routes.size(), c.auth_register || c.auth_invite ? ", digest auth on" : "");
  stop_on_signals([&loop] { loop.stop(); });
  loop.run();
  spdlog::info("proxy stopped: {} branches forwarded, {} registrations, {} rejected", server.counters().forwarded,
               server.counters().registrations, server.counters().rejected);
  return 0;
}

}  // namespace

void add_proxy_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto args = std::make_shared<ProxyArgs>();
  auto* cmd = app.add_subcommand("proxy", "RFC 3261 stateful proxy and registrar");
  cmd->add_option("--listen", args->listen, "udp:HOST:PORT or tcp:HOST:PORT (repeatable; default udp+tcp 127.0.0.1:5060)");
  cmd->add_option("--db", args->db, "SQLite file for registrations and users (default confab-proxy.db)");
  cmd->add_option("--domain", args->domains, "a domain whose users register here (repeatable)");
  cmd->add_option("--route", args->routes, "DOMAIN=HOST:PORT: send requests for DOMAIN there (repeatable)");
  cmd->add_option("--config", args->config, "TOML file with a [proxy] table")->check(CLI::ExistingFile);
  cmd->add_flag("--list", args->list, "print the live registrations in --db and exit");
  cmd->add_flag("--auth-register", args->auth_register, "require digest authentication for REGISTER");
  cmd->add_flag("--auth-invite", args->auth_invite, "require digest authentication for INVITE from our domains");
  cmd->add_option("--realm", args->realm, "digest realm (default: first domain)");
  cmd->add_option("--auth-algorithms", args->algorithms, "algorithms offered in challenges, preferred first (MD5, SHA-256)")
      ->delimiter(',');

  cmd->add_option("--transaction-timeout", args->transaction_timeout_ms,
                  "ms a request may go unanswered / a finished transaction is kept (default 5000; RFC 3261: 32000)");

  auto* add = cmd->add_subcommand("adduser", "add or update a user for digest authentication");
  add->add_option("user", args->user, "user name")->required();
  add->add_option("password", args->password, "password")->required();
  auto* del = cmd->add_subcommand("deluser", "remove a user");
  del->add_option("user", args->user, "user name")->required();
  auto* users = cmd->add_subcommand("users", "list users");

  cmd->callback([args, add, del, users, &global, &runner] {
    runner = [args, add, del, users, &global]() -> int {
      auto config = build_config(*args);
      if (add->parsed()) {
        proxy::UserStore(config.db_path).add(args->user, realm_for(config), args->password);
        std::cout << "user " << args->user << " (realm " << realm_for(config) << ") saved in " << config.db_path << "\n";
        return 0;
      }
      if (del->parsed()) {
        bool removed = proxy::UserStore(config.db_path).remove(args->user, realm_for(config));
        std::cout << (removed ? "removed " : "no such user ") << args->user << "\n";
        return removed ? 0 : 1;
      }
      if (users->parsed()) {
        for (auto& u : proxy::UserStore(config.db_path).list()) std::cout << u.username << " realm=" << u.realm << "\n";
        return 0;
      }
      if (args->list) return list_registrations(config);
      return run_proxy(global, config);
    };
  });
}

}  // namespace confab::cli
