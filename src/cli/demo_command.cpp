// confab demo: every part on loopback, with instructions for trying it.
// For now: the proxy/registrar (the other parts join it as they land).
#include <filesystem>
#include <iostream>

#include "base/log.h"
#include "cli/commands.h"
#include "proxy/proxy_server.h"
#include "sip/event_loop.h"

namespace confab::cli {

namespace {

struct DemoArgs {
  std::string dir;
  uint16_t proxy_port = 5060;
};

int run_demo(const GlobalOptions& g, const DemoArgs& a) {
  base::init_logging("demo", g.log_level);
  std::filesystem::path dir = a.dir.empty() ? std::filesystem::temp_directory_path() / "confab-demo" : std::filesystem::path(a.dir);
  std::filesystem::create_directories(dir);

  sip::EventLoop loop;
  proxy::ProxyConfig pc;
  pc.listen = {*sip::ListenSpec::parse("udp:127.0.0.1:" + std::to_string(a.proxy_port)),
               *sip::ListenSpec::parse("tcp:127.0.0.1:" + std::to_string(a.proxy_port))};
  pc.db_path = (dir / "proxy.db").string();
  pc.domains = {"confab.local"};
  proxy::ProxyServer proxy(loop, pc);

  std::string p = std::to_string(a.proxy_port);
  std::cout << "\nConfab demo is running (Ctrl-C to stop). State is kept in " << dir.string() << "\n\n"
            << "  proxy/registrar   sip:127.0.0.1:" << p << " (UDP and TCP), domain confab.local\n\n"
            << "Try it with any SIP phone (baresip, linphone, Zoiper, a desk phone on this host):\n"
            << "  1. Register two accounts, e.g. sip:alice@confab.local and sip:bob@confab.local,\n"
            << "     with outbound proxy / registrar sip:127.0.0.1:" << p << " (no password).\n"
            << "  2. From alice, call sip:bob@confab.local.\n"
            << "  3. See who is registered:  confab proxy --db " << pc.db_path << " --list\n"
            << "  A URI of another domain is forwarded to that domain's host, e.g.\n"
            << "     sip:echo@127.0.0.1:5080 goes to whatever listens on 127.0.0.1:5080.\n"
            << "\nWith baresip:  baresip, then  /uanew sip:alice@confab.local;outbound=\"sip:127.0.0.1:" << p
            << "\"  and  /dial sip:bob@confab.local\n"
            << std::endl;
  stop_on_signals([&loop] { loop.stop(); });
  loop.run();
  std::cout << "demo stopped" << std::endl;
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "run every part on loopback and print how to try it");
  cmd->add_option("--dir", args->dir, "where the demo keeps its state (default /tmp/confab-demo)");
  cmd->add_option("--proxy-port", args->proxy_port, "proxy port")->capture_default_str();
  cmd->callback([args, &global, &runner] { runner = [args, &global] { return run_demo(global, *args); }; });
}

}  // namespace confab::cli
