// The messages `confab` prints for a wrong command line, on a command tree set
// up as main() sets up its own (fallthrough, one subcommand required).
#include "cli/usage_errors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace confab::cli {
namespace {

struct Commands {
  CLI::App app{"test"};
  std::string level = "info", listen, mixer, user;
  size_t max_participants = 0;
  Commands() {
    app.require_subcommand(1);
    app.fallthrough();
    app.add_option("--log-level", level)->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
    explain_usage_errors(app);
    auto* conference = app.add_subcommand("conference", "conference server");
    conference->add_option("--listen", listen);
    conference->add_option("--mixer", mixer);
    conference->add_option("--max-participants", max_participants);
    auto* proxy = app.add_subcommand("proxy", "proxy");
    proxy->add_subcommand("adduser", "adds a user")->add_option("--user", user);
    app.add_subcommand("game", "game server");
  }

  // What the person sees on stderr for `confab ARGS...` ("" if it parses).
  std::string error_for(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    try {
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      return usage_error_message(app, e);
    }
    return "";
  }
};

TEST(UsageErrors, AMistypedCommandGetsASuggestion) {
  EXPECT_EQ(Commands().error_for({"conferance"}),
            "unknown command 'conferance': did you mean 'conference'?\nRun `confab --help` for more information.\n");
  EXPECT_EQ(Commands().error_for({"--log-level", "debug", "gmae"}),
            "unknown command 'gmae': did you mean 'game'?\nRun `confab --help` for more information.\n");
  EXPECT_EQ(Commands().error_for({"banana"}),
            "unknown command 'banana' (`confab --help` lists the commands)\nRun `confab --help` for more information.\n");
  auto nested = Commands().error_for({"proxy", "addusr"});
  EXPECT_EQ(nested.rfind("unknown command 'addusr' for confab proxy: did you mean 'adduser'?\n", 0), 0u) << nested;
}

TEST(UsageErrors, NoCommandListsThem) {
  EXPECT_EQ(Commands().error_for({}),
            "which part? give a command: conference, proxy, game\nRun `confab --help` for more information.\n");
  EXPECT_EQ(Commands().error_for({"--log-level", "debug"}),
            "which part? give a command: conference, proxy, game\nRun `confab --help` for more information.\n");
}

TEST(UsageErrors, UnknownOptionsInTheOrderGivenWithTheNearestValidOne) {
  auto e = Commands().error_for({"conference", "--lisen", "udp:127.0.0.1:5080", "--mixxer=sip:m", "--max-particpants", "3"});
  EXPECT_EQ(e,
            "unknown option '--lisen' for confab conference: did you mean '--listen'?\n"
            "unknown option '--mixxer' for confab conference: did you mean '--mixer'?\n"
            "unknown option '--max-particpants' for confab conference: did you mean '--max-participants'?\n"
            "Run `confab conference --help` for more information.\n");
  // Global options count as the command's own (they may follow it).
  auto global = Commands().error_for({"conference", "--log-levl", "debug"});
  EXPECT_EQ(global.rfind("unknown option '--log-levl' for confab conference: did you mean '--log-level'?\n", 0), 0u)
      << global;
  auto far = Commands().error_for({"conference", "--colour"});
  EXPECT_EQ(far.rfind("unknown option '--colour' for confab conference (`confab conference --help` lists the options)\n", 0),
            0u) << far;
}

TEST(UsageErrors, AStrayArgumentIsNamed) {
  auto e = Commands().error_for({"game", "extra"});
  EXPECT_EQ(e.rfind("unexpected argument 'extra' for confab game\n", 0), 0u) << e;
}

TEST(UsageErrors, OtherErrorsKeepCliElevensText) {
  auto level = Commands().error_for({"--log-level", "verbose", "game"});
  EXPECT_NE(level.find("--log-level: verbose not in {trace,debug,info,warn,error,off}"), std::string::npos) << level;
  EXPECT_EQ(Commands().error_for({"conference", "--listen", "udp:127.0.0.1:5080"}), "");
}

}  // namespace
}  // namespace confab::cli
