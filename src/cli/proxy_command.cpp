// confab proxy: run the proxy/registrar, list registrations, manage users.
#include <chrono>
#include <iostream>

#include <sys/stat.h>

#include "base/host_port.h"
#include "base/log.h"
#include "base/secret_input.h"
#include "cli/commands.h"
#include "proxy/digest_auth.h"
#include "proxy/location_store.h"
#include "proxy/proxy_control.h"
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
  std::string check_config;
  bool record_route = true;
  CLI::Option* record_route_option = nullptr;
  size_t max_message_size = 0;
  int64_t min_expires = -1, max_expires = -1, default_expires = -1, nonce_ttl = -1;
  size_t max_contacts = 0;
  std::string sip_trace;
  std::string metrics, control;
  // adduser / deluser
  std::string user, password, password_file;
};

proxy::ProxyConfig build_config(const ProxyArgs& a) {
  proxy::ProxyConfig c;
  if (!a.check_config.empty()) proxy::load_proxy_config(a.check_config, c);
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
  if (a.record_route_option && a.record_route_option->count()) c.record_route = a.record_route;
  if (a.max_message_size) c.max_message_size = a.max_message_size;
  if (a.min_expires >= 0) c.registrar.min_expires = a.min_expires;
  if (a.max_expires >= 0) c.registrar.max_expires = a.max_expires;
  if (a.default_expires >= 0) c.registrar.default_expires = a.default_expires;
  if (a.max_contacts) c.registrar.max_contacts = a.max_contacts;
  if (a.nonce_ttl >= 0) c.nonce_ttl = a.nonce_ttl;
  if (!a.sip_trace.empty()) c.sip_trace = a.sip_trace;
  if (!a.metrics.empty()) c.metrics = base::parse_host_port(a.metrics, "--metrics").str();
  if (!a.control.empty()) c.control = a.control;
  proxy::check_proxy_config(c);
  return c;
}

bool file_exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

// "no database at PATH" for a reader, which never creates one.
bool say_if_no_database(const std::string& path) {
  if (file_exists(path)) return false;
  std::cerr << "confab: no database at " << path << ": no proxy has run with --db " << path
            << " yet (give the --db of the proxy)\n";
  return true;
}

// The realm users are added under: the one the proxy challenges with. Its settings
// (--realm, else the first --domain, from the flags or --config) decide; without any,
// the realm the proxy recorded at its last start on this database; on a database no
// authenticating proxy has used, the proxy's own default (its first --listen host).
struct UserRealm {
  std::string realm, why;
};
UserRealm user_realm(const proxy::ProxyConfig& c) {
  if (!c.realm.empty()) return {c.realm, "the proxy's realm setting"};
  if (!c.domains.empty()) return {c.domains.front(), "the proxy's first domain"};
  if (file_exists(c.db_path))
    if (auto recorded = proxy::UserStore(c.db_path, base::SqliteDatabase::Open::ExistingOnly).challenge_realm())
      return {*recorded, "the realm the proxy challenged with at its last start on this database"};
  return {c.listen.front().host,
          "no --realm, --domain or proxy start on this database yet: the default realm, the first --listen host"};
}

// The new user's password: the argument (with a warning), --password-file, or standard input / a prompt.
std::string new_password(const ProxyArgs& a, const UserRealm& realm) {
  if (!a.password.empty() && !a.password_file.empty())
    throw std::runtime_error("give the password once: as an argument or with --password-file");
  if (!a.password.empty()) {
    spdlog::warn("{}", base::secret_on_command_line_warning(
                           "a password", "--password-file FILE or standard input (echo ... | confab proxy adduser NAME)"));
    return a.password;
  }
  if (!a.password_file.empty()) return base::read_secret_file(a.password_file, "--password-file");
  return base::read_secret_from_stdin("Password for " + a.user + " (realm " + realm.realm + "): ", true);
}

int add_user(const ProxyArgs& a, const proxy::ProxyConfig& c) {
  UserRealm realm = user_realm(c);
  std::string password = new_password(a, realm);
  proxy::UserStore(c.db_path).add(a.user, realm.realm, password);
  std::cout << "user " << a.user << " (realm " << realm.realm << ": " << realm.why << ") saved in " << c.db_path << "\n";
  return 0;
}

int delete_user(const ProxyArgs& a, const proxy::ProxyConfig& c) {
  if (say_if_no_database(c.db_path)) return 1;
  UserRealm realm = user_realm(c);
  proxy::UserStore users(c.db_path, base::SqliteDatabase::Open::ExistingOnly);
  if (users.remove(a.user, realm.realm)) {
    std::cout << "removed " << a.user << " (realm " << realm.realm << ")\n";
    return 0;
  }
  std::string elsewhere;
  for (auto& r : users.realms_of(a.user)) elsewhere += (elsewhere.empty() ? "" : ", ") + r;
  std::cerr << "confab: no user " << a.user << " in realm " << realm.realm
            << (elsewhere.empty() ? "" : " (it exists under realm " + elsewhere + ": give --realm)") << "\n";
  return 1;
}

int list_users(const proxy::ProxyConfig& c) {
  if (say_if_no_database(c.db_path)) return 1;
  for (auto& u : proxy::UserStore(c.db_path, base::SqliteDatabase::Open::ExistingOnly).list())
    std::cout << u.username << " realm=" << u.realm << "\n";
  return 0;
}

int list_registrations(const proxy::ProxyConfig& c) {
  if (say_if_no_database(c.db_path)) return 1;
  auto now = proxy::unix_now();
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

// `reread`: the configuration as the command line and --config say now (reload).
int run_proxy(const GlobalOptions& g, const proxy::ProxyConfig& c, std::function<proxy::ProxyConfig()> reread) {
  base::init_logging("proxy", g.log_level);
  auto trace = start_sip_trace(c.sip_trace);
  sip::EventLoop loop;
  proxy::ProxyServer server(loop, c);
  std::string where;
  for (auto& l : c.listen) where += " " + l.str();
  spdlog::info("proxy listening on{} (db {}, {} domain(s), {} route(s){})", where, c.db_path, c.domains.size(),
               c.routes.size(), c.auth_register || c.auth_invite ? ", digest auth on" : "");
  auto reload = [&server, reread] {
    try {
      return server.reload(reread());
    } catch (const std::exception& e) {  // a broken file: keep running as before
      spdlog::error("reload: {}; nothing changed", e.what());
      return std::string("nothing changed: ") + e.what();
    }
  };
  std::unique_ptr<control::ControlServer> control;
  if (!c.control.empty()) {
    control = std::make_unique<control::ControlServer>(loop, c.control, "proxy");
    proxy::add_proxy_commands(*control, server, reload);
  }
  stop_on_signals([&loop] { loop.stop(); }, [&loop, reload] { loop.post([reload] { reload(); }); });
  loop.run();
  control.reset();
  spdlog::info("proxy stopped: {} branches forwarded, {} registrations, {} rejected; authentication failures: {}",
               server.counters().forwarded, server.counters().registrations, server.counters().rejected,
               server.auth_failures().summary());
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
  args->record_route_option = cmd->add_flag("--record-route,!--no-record-route", args->record_route,
                                            "stay in the path of dialogs (Record-Route; default on)");
  cmd->add_option("--max-message-size", args->max_message_size, "bytes; a larger SIP message is refused (default 65536)")
      ->check(CLI::Range(size_t{1024}, size_t{16} * 1024 * 1024));
  cmd->add_option("--min-expires", args->min_expires, "shortest registration granted, s (423 below; default 60)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-expires", args->max_expires, "longest registration granted, s (default 3600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--default-expires", args->default_expires, "registration time when the REGISTER names none, s (default 3600)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-contacts", args->max_contacts, "contacts per address-of-record (default 16)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--nonce-ttl", args->nonce_ttl, "seconds a digest nonce stays valid (default 300)")
      ->check(CLI::Range(int64_t{10}, int64_t{86400}));
  cmd->add_option("--metrics", args->metrics, "HOST:PORT: serve GET /metrics (Prometheus) there (default off)");
  cmd->add_option("--control", args->control, "PATH: the control socket `confab ctl proxy` talks to (default none)");
  add_sip_trace_option(*cmd, args->sip_trace);
  add_check_config_option(*cmd, args->check_config);
  note_file_keys(*cmd, proxy::proxy_settings());

  auto* add = cmd->add_subcommand("adduser", "add or update a user for digest authentication");
  add->add_option("user", args->user, "user name")->required();
  add->add_option("password", args->password,
                  "password (visible in the process list: prefer --password-file or standard input; without either, "
                  "read from standard input, or asked for on a terminal)");
  add->add_option("--password-file", args->password_file, "file whose first line is the password");
  auto* del = cmd->add_subcommand("deluser", "remove a user");
  del->add_option("user", args->user, "user name")->required();
  auto* users = cmd->add_subcommand("users", "list users");

  cmd->callback([args, add, del, users, &global, &runner] {
    runner = [args, add, del, users, &global]() -> int {
      auto config = build_config(*args);
      if (!args->check_config.empty()) return config_ok(args->check_config);
      if (add->parsed() || del->parsed() || users->parsed()) {
        base::init_logging("proxy", global.log_level);
        if (add->parsed()) return add_user(*args, config);
        if (del->parsed()) return delete_user(*args, config);
        return list_users(config);
      }
      if (args->list) return list_registrations(config);
      return run_proxy(global, config, [args] { return build_config(*args); });
    };
  });
}

}  // namespace confab::cli
