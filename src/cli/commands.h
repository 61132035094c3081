// The `confab` command line: each subcommand registers itself with CLI11 and
// returns the function that runs it once the arguments are parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <utility>
#include <string>
#include <vector>

#include "sip/transaction_layer.h"

namespace confab::cli {

struct GlobalOptions {
  std::string log_level = "info";
};

using Runner = std::function<int()>;

// Each adds a subcommand to `app`; the runner is stored for main to call.
void add_proxy_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_demo_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_mixer_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_phone_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_conference_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_service_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_desktop_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
// join, external-join, same-device-join, invite, hangup, calls, devices, events, api, approve, chooser, open

void add_client_commands(CLI::App& app, const GlobalOptions& global, Runner& runner);

// What a sip:/sips:/tel:/callto: link asks to join, as the API takes it ("" if
// none): a sip:/sips: URI, or tel:<digits> (the service routes it to its gateway).
std::string sip_target_of_link(const std::string& link);

// --listen values ([udp:|tcp:]HOST:PORT), or `fallback` when none; throws on a bad one.
std::vector<sip::ListenSpec> parse_listen(const std::vector<std::string>& specs, const std::string& fallback);
// "HOST:PORT" -> (host, port); throws std::runtime_error naming `what`.
std::pair<std::string, uint16_t> parse_host_port(const std::string& s, const char* what);

// main() blocks SIGINT/SIGTERM before any thread exists (threads inherit the
// mask), so only the waiter of stop_on_signals() ever sees them.
void block_stop_signals();
// Waits for SIGINT/SIGTERM on a helper thread and calls `on_signal` once (e.g. loop.stop()).
void stop_on_signals(std::function<void()> on_signal);

}  // namespace confab::cli
