// confab service: the per-user client SIP service (docs/api.md).
#include <sys/stat.h>

#include "base/log.h"
#include "base/secret_input.h"
#include "cli/commands.h"
#include "service/client_service.h"
#include "service/paths.h"
#include "sip/event_loop.h"

namespace confab::cli {

namespace {

struct ServiceArgs {
  std::string config_file;
  std::vector<std::string> sip, devices, incoming_from;
  std::string identity, proxy, password, default_device, incoming_device, tel_gateway, conference_server, api_socket, api_tcp, token_file, web_api,
      origins_file;
  std::string plugin_dir;
  std::string sip_trace;
  std::string password_file;
  bool register_at_proxy = false;
  int keepalive_s = -1;
  int leave_grace_s = -1;
  int choice_timeout_s = 0;
  unsigned transaction_timeout_ms = 0;
  std::string check_config;
};

}  // namespace

void add_service_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<ServiceArgs>();
  auto* cmd = app.add_subcommand("service", "the per-user client SIP service: the local XML API, devices, calls");
  cmd->add_option("--config", a->config_file, "TOML file (default ~/.config/confab/service.toml if it exists)");
  cmd->add_option("--sip", a->sip, "SIP address [udp:|tcp:]HOST:PORT (default udp:127.0.0.1:5062); repeatable");
  cmd->add_option("--identity", a->identity, "our SIP URI (From), e.g. sip:alice@example.com");
  cmd->add_option("--proxy", a->proxy, "outbound proxy URI, e.g. sip:127.0.0.1:5060");
  cmd->add_flag("--register", a->register_at_proxy, "REGISTER the identity at the proxy");
  cmd->add_option("--password", a->password,
                  "digest password for the identity (visible in the process list: prefer --password-file)");
  cmd->add_option("--password-file", a->password_file, "file whose first line is the identity's digest password");
  cmd->add_option("--device", a->devices, "ID=SIP-URI[;mode=transfer]: a SIP device (repeatable)");
  cmd->add_option("--default-device", a->default_device, "device used when a request names none");
  cmd->add_option("--incoming-device", a->incoming_device,
                  "device that rings for calls to the identity (default: the default device; off: decline them)");
  cmd->add_option("--incoming-from", a->incoming_from,
                  "only INVITEs from this network ring, e.g. 127.0.0.0/8 or the proxy's address (repeatable; "
                  "default: from anywhere)");
  cmd->add_option("--tel-gateway", a->tel_gateway, "HOST[:PORT] of the SIP gateway tel: numbers go to");
  cmd->add_option("--conference-server", a->conference_server, "HOST[:PORT] for ad-hoc conferences (default 127.0.0.1:5080)");
  cmd->add_option("--api-socket", a->api_socket, "Unix socket of the API (default $XDG_RUNTIME_DIR/confab/service.sock)");
  cmd->add_option("--api-tcp", a->api_tcp, "HOST:PORT of the token-protected TCP API, or off (default 127.0.0.1:5065)");
  cmd->add_option("--token-file", a->token_file, "where the TCP token is written (default $XDG_RUNTIME_DIR/confab/token)");
  cmd->add_option("--keepalive", a->keepalive_s, "seconds between in-dialog OPTIONS probes of a call's legs; 0: off "
                                                "(default 30)");
  cmd->add_option("--leave-grace", a->leave_grace_s,
                  "seconds a web page's call outlives the last page of its site (its origin); 0: never ended "
                  "(default 10)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--web-api", a->web_api, "HOST:PORT of the WebSocket API and device chooser page, or off "
                                           "(default 127.0.0.1:5066)");
  cmd->add_option("--origins-file", a->origins_file, "approved web origins (default ~/.config/confab/approved-origins)");
  cmd->add_option("--plugin-dir", a->plugin_dir, "load the plugins (*.so) in this directory at start");
  cmd->add_option("--choice-timeout", a->choice_timeout_s, "seconds an ExternalJoin waits for the user to pick a device "
                                                          "(default 120)")
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--transaction-timeout", a->transaction_timeout_ms,
                  "ms a request waits for its final response (default 32000)")
      ->check(CLI::Range(1000u, 600000u));
  add_sip_trace_option(*cmd, a->sip_trace);
  add_check_config_option(*cmd, a->check_config);
  note_file_keys(*cmd, service::service_settings());
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      if (a->check_config.empty()) base::init_logging("service", global.log_level);
      service::ServiceConfig c;
      std::string file = !a->check_config.empty() ? a->check_config : a->config_file;
      struct stat st{};
      if (file.empty() && ::stat(service::default_config_path().c_str(), &st) == 0) file = service::default_config_path();
      if (!file.empty()) service::load_service_config(file, c);
      if (!a->sip.empty()) c.sip_listen = parse_listen(a->sip, "udp:127.0.0.1:5062");
      for (auto& d : a->devices) {
        auto eq = d.find('=');
        if (eq == std::string::npos || eq == 0) throw std::runtime_error("--device wants ID=SIP-URI, not " + d);
        service::DeviceConfig dc;
        dc.id = d.substr(0, eq);
        std::string uri = d.substr(eq + 1);
        if (auto m = uri.find(";mode="); m != std::string::npos) {
          dc.settings["mode"] = uri.substr(m + 6);
          uri.erase(m);
        }
        dc.settings["uri"] = uri;
        c.devices.push_back(dc);
      }
      auto set = [](const std::string& v, std::string& out) {
        if (!v.empty()) out = v;
      };
      set(a->identity, c.identity);
      set(a->proxy, c.proxy);
      if (!a->password.empty() && !a->password_file.empty())
        throw std::runtime_error("give --password or --password-file, not both");
      if (!a->password.empty())
        spdlog::warn("{}", base::secret_on_command_line_warning("--password", "--password-file FILE"));
      set(a->password, c.password);
      if (!a->password_file.empty()) c.password = base::read_secret_file(a->password_file, "--password-file");
      set(a->default_device, c.default_device);
      set(a->incoming_device, c.incoming_device);
      if (!a->incoming_from.empty()) c.incoming_from = service::parse_networks(a->incoming_from, "--incoming-from");
      set(a->tel_gateway, c.tel_gateway);
      set(a->conference_server, c.conference_server);
      set(a->api_socket, c.api_socket);
      set(a->api_tcp, c.api_tcp);
      set(a->token_file, c.token_file);
      set(a->web_api, c.web_api);
      set(a->origins_file, c.origins_file);
      set(a->plugin_dir, c.plugin_dir);
      set(a->sip_trace, c.sip_trace);
      if (a->register_at_proxy) c.register_at_proxy = true;
      if (a->keepalive_s >= 0) c.keepalive_s = static_cast<unsigned>(a->keepalive_s);
      if (a->leave_grace_s >= 0) c.leave_grace_s = static_cast<unsigned>(a->leave_grace_s);
      if (a->choice_timeout_s > 0) c.choice_timeout_s = static_cast<unsigned>(a->choice_timeout_s);
      if (a->transaction_timeout_ms) c.transaction_timeout_ms = a->transaction_timeout_ms;
      if (!a->check_config.empty()) {
        service::check_service_config(c);
        return config_ok(a->check_config);
      }
      auto trace = start_sip_trace(c.sip_trace);
      sip::EventLoop loop;
      service::ClientService service(loop, c);
      service.start();
      stop_on_signals([&loop] { loop.stop(); });
      loop.run();
      service.shutdown();
      return 0;
    };
  });
}

}  // namespace confab::cli
