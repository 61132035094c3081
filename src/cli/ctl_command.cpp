// confab ctl PART COMMAND [ARGS...]: asks a running part through its control socket
// (control/control_server.h) what it holds, or to change it; the client service
// through its own API socket. Prints the answer (a string as is, anything else as
// one line of JSON, for jq); exit status 0 when it succeeded.
#include <iostream>

#include <boost/json.hpp>

#include "api/api_client.h"
#include "cli/commands.h"
#include "control/control_server.h"
#include "service/paths.h"

namespace confab::cli {

namespace {

struct CtlArgs {
  std::string part, command, socket;
  std::vector<std::string> args;
};

// The client service has an API already: ctl's words for the messages an operator wants.
int service_command(const CtlArgs& a) {
  api::ApiMessage request;
  if (a.command == "calls")
    request = api::ApiMessage("Calls");
  else if (a.command == "devices")
    request = api::ApiMessage("Devices");
  else if (a.command == "state")
    request = api::ApiMessage("State");
  else if (a.command == "hangup")
    request = a.args.empty() ? api::ApiMessage("Hangup") : api::ApiMessage("Hangup").set("call", a.args[0]);
  else if (a.command == "log-level")
    request = a.args.empty() ? api::ApiMessage("LogLevel") : api::ApiMessage("LogLevel").set("level", a.args[0]);
  else if (a.command == "help") {
    std::cout << "calls: the calls now\ndevices: the devices and which is the default\n"
                 "state: everything the chooser page shows\nhangup [CALL]: ends the current call, or CALL\n"
                 "log-level [LEVEL]: the log level now, or set it (trace, debug, info, warn, error, off)\n";
    return 0;
  } else {
    std::cerr << "confab ctl: no command '" << a.command
              << "' for the service (calls, devices, state, hangup, log-level)\n";
    return 2;
  }
  auto client = api::ApiClient::unix_socket(a.socket.empty() ? service::runtime_dir() + "/service.sock" : a.socket);
  auto r = client.call(request, std::chrono::seconds(10));
  if (!r) {
    std::cerr << "confab ctl: no answer from the service\n";
    return 1;
  }
  std::cout << api::to_xml(*r) << std::endl;
  return r->attr("status") == "ok" ? 0 : 1;
}

int run_ctl(const CtlArgs& a) {
  if (a.part == "service") return service_command(a);
  auto answer = control::call_control(a.socket.empty() ? control::default_control_path(a.part) : a.socket, a.command,
                                      a.args);
  if (!answer.ok) {
    std::cerr << "confab ctl " << a.part << ": " << answer.error << "\n";
    return 1;
  }
  if (auto* s = answer.result.if_string())
    std::cout << std::string_view(*s) << "\n";
  else if (!answer.result.is_null())
    std::cout << boost::json::serialize(answer.result) << "\n";
  return 0;
}

}  // namespace

void add_ctl_command(CLI::App& app, const GlobalOptions&, Runner& runner) {
  auto a = std::make_shared<CtlArgs>();
  auto* cmd = app.add_subcommand("ctl", "ask a running part: confab ctl proxy|conference|mixer|service COMMAND "
                                        "(`confab ctl PART help` lists them)");
  cmd->add_option("part", a->part, "proxy, conference, mixer or service")
      ->required()
      ->check(CLI::IsMember({"proxy", "conference", "mixer", "service"}));
  cmd->add_option("command", a->command, "what to do (help lists them)")->required();
  cmd->add_option("args", a->args, "its arguments");
  cmd->add_option("--socket", a->socket,
                  "the part's control socket (its --control; default /run/confab-PART/control.sock when it exists, "
                  "else $XDG_RUNTIME_DIR/confab/PART.sock; for the service its API socket)");
  cmd->callback([a, &runner] {
    runner = [a] {
      exit_on_stop_signals();
      return run_ctl(*a);
    };
  });
}

}  // namespace confab::cli
