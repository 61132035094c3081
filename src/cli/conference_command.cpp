// confab conference: the ad-hoc conference server.
#include "base/log.h"
#include "base/secret_input.h"
#include "base/host_port.h"
#include "cli/commands.h"
#include "conference/conference_control.h"
#include "conference/conference_server.h"
#include "sip/event_loop.h"

namespace confab::cli {

namespace {

struct ConferenceArgs {
  std::vector<std::string> listen;
  std::string mixer;
  std::string outbound_proxy;
  std::vector<std::string> domains;
  std::string admin;
  std::string admin_token, admin_token_file, control;
  std::string config_file;
  size_t max_participants = 0, max_conferences = 0;
  std::string check_config;
  int64_t max_subscribers = -1, max_subscription_expires = -1, notify_interval_ms = -1;
  unsigned transaction_timeout_ms = 0;
  std::string sip_trace;
};

// The configuration as the command line and --config say now (at start and at each reload).
conference::ConferenceConfig build_config(const ConferenceArgs& a) {
  conference::ConferenceConfig c;
  if (!a.check_config.empty()) conference::load_conference_config(a.check_config, c);
  if (!a.config_file.empty()) conference::load_conference_config(a.config_file, c);
  if (!a.listen.empty() || c.listen.empty()) c.listen = parse_listen(a.listen, "udp:127.0.0.1:5080");
  if (!a.mixer.empty()) c.mixer = a.mixer;
  if (!a.outbound_proxy.empty()) c.outbound_proxy = a.outbound_proxy;
  for (auto& d : a.domains) c.domains.push_back(d);
  if (!a.admin.empty()) {
    auto admin = base::parse_host_port(a.admin, "--admin");
    c.admin_host = admin.host;
    c.admin_port = admin.port;
  }
  if (!a.admin_token.empty() && !a.admin_token_file.empty())
    throw std::invalid_argument("give --admin-token or --admin-token-file, not both");
  if (!a.admin_token.empty()) {
    c.admin_token = a.admin_token;
    c.admin_token_file.clear();
  }
  if (!a.admin_token_file.empty()) {
    c.admin_token_file = a.admin_token_file;
    c.admin_token.clear();
  }
  if (!c.admin_token_file.empty()) c.admin_token = base::read_secret_file(c.admin_token_file, "--admin-token-file");
  if (a.max_participants) c.max_participants = a.max_participants;
  if (a.max_conferences) c.max_conferences = a.max_conferences;
  if (a.max_subscribers >= 0) c.max_subscribers = static_cast<size_t>(a.max_subscribers);
  if (a.max_subscription_expires >= 0) c.max_subscription_expires = static_cast<unsigned>(a.max_subscription_expires);
  if (a.notify_interval_ms >= 0) c.notify_interval_ms = static_cast<unsigned>(a.notify_interval_ms);
  if (a.transaction_timeout_ms) c.transaction_timeout_ms = a.transaction_timeout_ms;
  if (!a.sip_trace.empty()) c.sip_trace = a.sip_trace;
  if (!a.control.empty()) c.control = a.control;
  return c;
}

}  // namespace

void add_conference_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<ConferenceArgs>();
  auto* cmd = app.add_subcommand("conference",
                                 "ad-hoc conference server: INVITE sip:<any-id>@server creates or joins <any-id>");
  cmd->add_option("--listen", a->listen, "SIP address, [udp:|tcp:]HOST:PORT (default udp:127.0.0.1:5080)");
  cmd->add_option("--mixer", a->mixer, "the mixer's SIP URI (default sip:127.0.0.1:5090)");
  cmd->add_option("--outbound-proxy", a->outbound_proxy,
                  "proxy URI the INVITEs to users a REFER adds go through, e.g. sip:127.0.0.1:5060 (not the mixer legs)");
  cmd->add_option("--domain", a->domains, "a domain this server serves (conference URIs sip:<id>@DOMAIN); repeatable");
  cmd->add_option("--admin", a->admin, "HOST:PORT of the HTTP/JSON admin API (off by default)");
  cmd->add_option("--admin-token", a->admin_token,
                  "bearer token the admin API requires (visible in the process list: prefer --admin-token-file)");
  cmd->add_option("--admin-token-file", a->admin_token_file, "file whose first line is the admin API's bearer token");
  cmd->add_option("--control", a->control, "PATH: the control socket `confab ctl conference` talks to (default none)");
  cmd->add_option("--max-participants", a->max_participants, "per conference (486 beyond; default 100)");
  cmd->add_option("--max-conferences", a->max_conferences, "at once (503 beyond; default 1000)");
  cmd->add_option("--config", a->config_file, "TOML file with a [conference] table (see docs/deployment.md)");
  cmd->add_option("--max-subscribers", a->max_subscribers, "conference-event subscribers per conference (503 beyond; default 500)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-subscription-expires", a->max_subscription_expires,
                  "longest subscription granted, s (default 3600)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--notify-interval", a->notify_interval_ms,
                  "ms: changes within it go out as one NOTIFY per subscriber (default 50)")
      ->check(CLI::Range(int64_t{0}, int64_t{60000}));
  cmd->add_option("--transaction-timeout", a->transaction_timeout_ms,
                  "ms a request waits for its final response (default 32000)")
      ->check(CLI::Range(500u, 600000u));
  add_sip_trace_option(*cmd, a->sip_trace);
  add_check_config_option(*cmd, a->check_config);
  note_file_keys(*cmd, conference::conference_settings());
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      if (a->check_config.empty()) base::init_logging("conference", global.log_level);
      if (!a->admin_token.empty() && a->admin_token_file.empty())
        spdlog::warn(base::secret_on_command_line_warning("--admin-token", "--admin-token-file"));
      conference::ConferenceConfig c = build_config(*a);
      if (!a->check_config.empty()) return config_ok(a->check_config);
      auto trace = start_sip_trace(c.sip_trace);
      sip::EventLoop loop;
      conference::ConferenceServer server(loop, c);
      bool default_mixer = a->mixer.empty() && c.mixer == conference::ConferenceConfig{}.mixer;
      spdlog::info("conference server listening on {} (mixer {}{}{}{}{})", c.listen.front().str(), c.mixer,
                   default_mixer ? ", the default: set --mixer (mixer in [conference]) for another" : "",
                   c.domains.empty() ? "" : ", domain " + c.domains.front(),
                   c.outbound_proxy.empty() ? "" : ", outbound proxy " + c.outbound_proxy,
                   c.admin_host.empty() ? "" : ", admin API " + base::HostPort{c.admin_host, c.admin_port}.str());
      auto reload = [&server, a] {
        try {
          return server.reload(build_config(*a));
        } catch (const std::exception& e) {  // a broken file: keep running as before
          spdlog::error("reload: {}; nothing changed", e.what());
          return std::string("nothing changed: ") + e.what();
        }
      };
      std::unique_ptr<control::ControlServer> control;
      if (!c.control.empty()) {
        control = std::make_unique<control::ControlServer>(loop, c.control, "conference");
        conference::add_conference_commands(*control, server, reload);
      }
      stop_on_signals([&loop] { loop.stop(); }, [&loop, reload] { loop.post([reload] { reload(); }); });
      loop.run();
      control.reset();
      server.shutdown();
      return 0;
    };
  });
}

}  // namespace confab::cli
