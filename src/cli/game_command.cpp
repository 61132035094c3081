// confab game: the game server (a world whose zones are conferences).
#include "base/log.h"
#include "base/secret_input.h"
#include "cli/commands.h"
#include "game/game_server.h"
#include "game/server_voice.h"
#include "sip/event_loop.h"
#include "sip/uri.h"

namespace confab::cli {

namespace {

struct GameArgs {
  std::string listen = "127.0.0.1:8081";
  std::string conference_host;
  std::string admin;
  std::string admin_token_file;
  std::string sip = "127.0.0.1:5075";
  std::vector<std::string> bots;
  std::string world_file;
  size_t max_connections = 1000;
  std::string check_config;
  std::string sip_trace;
};

game::GameOptions game_options(const GameArgs& a) {
  game::GameOptions o;
  o.listen = base::parse_host_port(a.listen, "--listen");
  if (!a.conference_host.empty()) o.conference_host = sip::parse_conference_host(a.conference_host);
  if (!a.admin.empty()) o.admin_url = game::parse_admin_url(a.admin);
  if (!a.admin_token_file.empty()) {
    if (a.admin.empty()) throw std::invalid_argument("--admin-token-file needs --admin (the admin API it is for)");
    o.admin_token = base::read_secret_file(a.admin_token_file, "--admin-token-file");
  }
  o.sip = base::parse_host_port(a.sip, "--sip");
  for (auto& b : a.bots) {
    auto eq = b.find('=');
    if (eq == std::string::npos || eq == 0) throw std::invalid_argument("--bot wants NAME=SIP-URI, not '" + b + "'");
    o.bots.emplace_back(b.substr(0, eq), b.substr(eq + 1));
  }
  o.world_file = a.world_file;
  o.max_connections = a.max_connections;
  return o;
}

// Who carries the players' voices: the page (client mode), nobody (no
// conference host), or the game server through the conference server.
game::VoiceFactory voice_for(const game::World& world, const game::GameOptions& o) {
  if (world.voice == game::VoiceMode::client) return game::no_voice("voice is in the page (world voice = \"client\")");
  if (o.conference_host.empty()) return game::no_voice("no voice: the game server runs without --conference-host");
  if (o.admin_url.empty())
    throw std::invalid_argument("voice = \"server\" needs --admin (the conference server's admin API moves players "
                                "between zones), or run without --conference-host");
  return game::server_voice();
}

}  // namespace

void add_game_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<GameArgs>();
  auto* cmd = app.add_subcommand("game", "game server: a multi-player world whose zones are conferences");
  cmd->add_option("--listen", a->listen, "HOST:PORT of the page and its WebSocket")->capture_default_str();
  cmd->add_option("--conference-host", a->conference_host,
                  "HOST[:PORT] of the conference server: zone conferences are sip:<world>-<zone>@it (no voice without)");
  cmd->add_option("--admin", a->admin, "the conference server's admin API, http://HOST:PORT (moves between zones)");
  cmd->add_option("--admin-token-file", a->admin_token_file, "file holding the admin API's bearer token");
  cmd->add_option("--sip", a->sip, "HOST:PORT of the game's SIP user agent (server voice: REFERs, rosters)")
      ->capture_default_str();
  cmd->add_option("--bot", a->bots, "NAME=SIP-URI: a player that wanders the world on its own (repeatable)");
  cmd->add_option("--world", a->world_file, "TOML file describing the world (default: 100 x 100 m, four quadrants)");
  cmd->add_option("--max-connections", a->max_connections, "WebSocket connections at once (503 beyond)")
      ->capture_default_str();
  add_sip_trace_option(*cmd, a->sip_trace);
  add_check_config_option(*cmd, a->check_config);
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      if (!a->check_config.empty()) {
        game::GameOptions o = game_options(*a);
        voice_for(game::load_world(a->check_config, o.conference_host), o);
        return config_ok(a->check_config);
      }
      base::init_logging("game", global.log_level);
      game::GameOptions o = game_options(*a);
      game::World world = game::load_world(o.world_file, o.conference_host);
      auto trace = start_sip_trace(a->sip_trace);
      sip::EventLoop loop;
      game::GameServer server(loop, world, o, voice_for(world, o));
      for (auto& [name, sip] : o.bots)
        if (!server.add_bot(name, sip)) throw std::invalid_argument("--bot " + name + "=" + sip + " cannot join");
      spdlog::info("game server on http://{}/ (world '{}', {} x {} m, {} zones, voice {}{})",
                   base::HostPort{o.listen.host, server.port()}.str(),
                   world.name, world.width, world.height, world.zones.size(), game::voice_mode_name(world.voice),
                   o.conference_host.empty() ? "" : ", conference host " + o.conference_host);
      stop_on_signals([&loop] { loop.stop(); });
      loop.run();
      server.shutdown();
      return 0;
    };
  });
}

}  // namespace confab::cli
