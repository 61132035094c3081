// confab conference: the ad-hoc conference server.
#include "base/log.h"
#include "base/host_port.h"
#include "cli/commands.h"
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
  std::string admin_token;
  std::string config_file;
  size_t max_participants = 0, max_conferences = 0;
};

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
  cmd->add_option("--admin-token", a->admin_token, "bearer token the admin API requires");
  cmd->add_option("--max-participants", a->max_participants, "per conference (486 beyond; default 100)");
  cmd->add_option("--max-conferences", a->max_conferences, "at once (503 beyond; default 1000)");
  cmd->add_option("--config", a->config_file, "TOML file with a [conference] table (see docs/deployment.md)");
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      base::init_logging("conference", global.log_level);
      conference::ConferenceConfig c;
      if (!a->config_file.empty()) conference::load_conference_config(a->config_file, c);
      if (!a->listen.empty() || c.listen.empty()) c.listen = parse_listen(a->listen, "udp:127.0.0.1:5080");
      if (!a->mixer.empty()) c.mixer = a->mixer;
      if (!a->outbound_proxy.empty()) c.outbound_proxy = a->outbound_proxy;
      for (auto& d : a->domains) c.domains.push_back(d);
      if (!a->admin.empty()) {
        auto admin = base::parse_host_port(a->admin, "--admin");
        c.admin_host = admin.host;
        c.admin_port = admin.port;
      }
      if (!a->admin_token.empty()) c.admin_token = a->admin_token;
      if (a->max_participants) c.max_participants = a->max_participants;
      if (a->max_conferences) c.max_conferences = a->max_conferences;
      sip::EventLoop loop;
      conference::ConferenceServer server(loop, c);
      spdlog::info("conference server listening on {} (mixer {}{}{}{})", c.listen.front().str(), c.mixer,
                   c.domains.empty() ? "" : ", domain " + c.domains.front(),
                   c.outbound_proxy.empty() ? "" : ", outbound proxy " + c.outbound_proxy,
                   c.admin_host.empty() ? "" : ", admin API " + a->admin);
      stop_on_signals([&loop] { loop.stop(); });
      loop.run();
      server.shutdown();
      return 0;
    };
  });
}

}  // namespace confab::cli
