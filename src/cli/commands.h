// The `confab` command line: each subcommand registers itself with CLI11 and
// returns the function that runs it once the arguments are parsed.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <utility>
#include <string>
#include <vector>

#include "sip/sip_trace.h"
#include "sip/transaction_layer.h"

namespace confab::base {
struct ConfigSetting;  // base/toml_file.h
}  // namespace confab::base

namespace confab::cli {

struct GlobalOptions {
  std::string log_level = "info";
};

using Runner = std::function<int()>;

// Each adds a subcommand to `app`; the runner is stored for main to call.
void add_proxy_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_ctl_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_demo_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_mixer_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_phone_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_conference_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_game_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_web_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_service_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_desktop_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_chat_bot_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
void add_native_host_command(CLI::App& app, const GlobalOptions& global, Runner& runner);
// join, external-join, same-device-join, invite, hangup, calls, devices, events, api, approve, chooser, open

void add_client_commands(CLI::App& app, const GlobalOptions& global, Runner& runner);

// What a sip:/sips:/tel:/callto: link asks to join, as the API takes it ("" if
// none): a sip:/sips: URI, or tel:<digits> (the service routes it to its gateway).
std::string sip_target_of_link(const std::string& link);

// packaging/NAME (a file or directory) beside the binary's build or install tree,
// or in /usr/share/confab; throws std::runtime_error if none has it.
std::filesystem::path packaged_path(const std::string& name);

// --listen values ([udp:|tcp:]HOST:PORT), or `fallback` when none; throws on a bad one.
std::vector<sip::ListenSpec> parse_listen(const std::vector<std::string>& specs, const std::string& fallback);

// Config files (config_options.cpp). Appends " [file: KEY]" to the help of each
// option a setting names; throws std::logic_error for a flag the command lacks.
void note_file_keys(CLI::App& cmd, const std::vector<base::ConfigSetting>& settings);
// --check-config FILE: the part reads FILE as at start, checks it and exits (as `kamailio -c`).
void add_check_config_option(CLI::App& cmd, std::string& file);
// Prints "FILE: OK"; returns 0.
int config_ok(const std::string& file);

// --sip-trace FILE (sip_trace_option.cpp): every SIP message the part sends and receives, as pcap.
void add_sip_trace_option(CLI::App& cmd, std::string& file);
// The trace into FILE, on from now until destroyed (nullptr when FILE is empty):
// start it before the part's SIP stacks. Throws, naming FILE and why, when FILE cannot be written.
std::unique_ptr<sip::SipTrace> start_sip_trace(const std::string& file);

// main() blocks SIGINT/SIGTERM/SIGHUP before any thread exists (threads inherit the
// mask), so in a server only the waiter of stop_on_signals() ever sees them.
// Client commands undo this with exit_on_stop_signals().
void block_stop_signals();
// Waits for SIGINT/SIGTERM on a helper thread and calls `on_signal` once (e.g. loop.stop()).
// For the servers, which stop in order. SIGHUP calls `on_hangup` (on that thread: post to
// the part's loop) each time, as `reload`; without one it is logged and ignored.
void stop_on_signals(std::function<void()> on_signal, std::function<void()> on_hangup = {});
// For the client commands, which have nothing to wind down and may wait long (a
// Join ringing, `events` until interrupted): from now on SIGINT/SIGTERM end the
// process at once with status 128 + the signal (130 for Ctrl-C), whatever it
// is blocked in. Called on the main thread, first thing in the command's runner.
void exit_on_stop_signals();

}  // namespace confab::cli
