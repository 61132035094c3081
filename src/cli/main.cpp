// confab: one binary, one subcommand per part (see docs/architecture.md).
#include <iostream>

#include "base/log.h"
#include "cli/commands.h"
#include "cli/usage_errors.h"
#include "confab_version.h"  // generated: cmake/version_header.cmake

int main(int argc, char** argv) {
  confab::cli::block_stop_signals();
  CLI::App app{"Confab: SIP as a system service, and the servers it talks to"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--log-level) may follow the subcommand
  confab::cli::GlobalOptions global;
  app.add_option("--log-level", global.log_level, "trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  std::string log_format;
  app.add_option("--log-format", log_format,
                 "text, json (one object per line) or journal (syslog priorities for journald; the default when "
                 "stderr is the journal)")
      ->check(CLI::IsMember({"text", "json", "journal"}));
  app.set_version_flag("--version", std::string("confab ") + CONFAB_VERSION + " (git " + CONFAB_GIT_REVISION + ")");
  confab::cli::explain_usage_errors(app);
  confab::cli::Runner runner;
  confab::cli::add_proxy_command(app, global, runner);
  confab::cli::add_mixer_command(app, global, runner);
  confab::cli::add_phone_command(app, global, runner);
  confab::cli::add_conference_command(app, global, runner);
  confab::cli::add_game_command(app, global, runner);
  confab::cli::add_web_command(app, global, runner);
  confab::cli::add_service_command(app, global, runner);
  confab::cli::add_client_commands(app, global, runner);
  confab::cli::add_desktop_command(app, global, runner);
  confab::cli::add_chat_bot_command(app, global, runner);
  confab::cli::add_native_host_command(app, global, runner);
  confab::cli::add_ctl_command(app, global, runner);
  confab::cli::add_demo_command(app, global, runner);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!log_format.empty()) confab::base::set_log_format(*confab::base::parse_log_format(log_format));
  // Until a part names its own logger: warnings of option and config checks go to stderr.
  confab::base::init_logging("confab", global.log_level);
  try {
    return runner ? runner() : 0;
  } catch (const std::exception& e) {
    std::cerr << "confab: " << e.what() << "\n";
    return 1;
  }
}
