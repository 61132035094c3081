// confab native-host: the native messaging host of the Confab links browser
// extension (extension/). The browser starts it with the caller as argument
// (Chromium: chrome-extension://ID/; Firefox: the host manifest's path and the
// extension's id) and talks to it on stdin/stdout in length-prefixed JSON frames;
// each request is relayed to the service's Unix socket (native_host/relay.h).
// Ends with 0 when the browser closes stdin, 1 after a frame it cannot read.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>

#include "base/log.h"
#include "cli/commands.h"
#include "native_host/frames.h"
#include "native_host/relay.h"

namespace confab::cli {

namespace {

struct NativeHostArgs {
  std::vector<std::string> caller;
  std::string config_file;
};

int serve(const NativeHostArgs& a) {
  using native_host::Frame;
  std::string caller;
  for (auto& c : a.caller) caller += (caller.empty() ? "" : " ") + c;
  spdlog::info("native-host: started for {}", caller.empty() ? "(no caller named)" : caller);
  std::optional<native_host::Relay> relay;
  std::string broken;  // why there is no relay: a bad service configuration
  try {
    relay.emplace(native_host::relay_settings(a.config_file));
  } catch (const std::exception& e) {
    broken = e.what();
    spdlog::error("native-host: {}", broken);
  }
  auto send = [](const std::string& json) {
    if (native_host::write_frame(STDOUT_FILENO, json)) return true;
    spdlog::info("native-host: the browser closed our output");
    return false;
  };
  for (;;) {
    Frame f = native_host::read_frame(STDIN_FILENO);
    switch (f.status) {
      case Frame::Status::end:
        spdlog::info("native-host: the browser closed the connection");
        return 0;
      case Frame::Status::too_large:
        spdlog::error("native-host: a frame of {} bytes is over the 64 MiB limit; stopping", f.length);
        send(native_host::error_json(413, "a message of " + std::to_string(f.length) +
                                              " bytes is over the 64 MiB native messaging limit"));
        return 1;
      case Frame::Status::truncated:
        spdlog::error("native-host: truncated frame ({} of {} bytes); stopping", f.got, f.length);
        send(native_host::error_json(400, "truncated message: the input ended after " + std::to_string(f.got) +
                                              " of its " + std::to_string(f.length) + " bytes"));
        return 1;
      case Frame::Status::ok:
        break;
    }
    std::vector<std::string> out =
        relay ? relay->answer(f.body) : std::vector{native_host::error_json(500, "service configuration: " + broken)};
    for (auto& json : out)
      if (!send(json)) return 0;
  }
}

}  // namespace

void add_native_host_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<NativeHostArgs>();
  auto* cmd = app.add_subcommand("native-host",
                                 "native messaging host of the Confab links browser extension (started by the browser)");
  cmd->add_option("caller", a->caller,
                  "what the browser passes: chrome-extension://ID/ (Chromium), or MANIFEST EXTENSION-ID (Firefox)");
  cmd->add_option("--config", a->config_file, "the service's TOML file (default ~/.config/confab/service.toml)");
  cmd->allow_extras();  // e.g. Chrome's --parent-window=N on Windows
  cmd->callback([a, &global, &runner] {
    runner = [a, &global] {
      exit_on_stop_signals();
      std::signal(SIGPIPE, SIG_IGN);  // a vanished browser: write() fails and we end
      base::init_logging("native-host", global.log_level);  // stderr: the browser keeps it in its log
      return serve(*a);
    };
  });
}

}  // namespace confab::cli
