// The command-line client of `confab service`: each subcommand sends one API
// message and prints the <Result> (and, for `events`, every event) as XML lines.
// Exit status 0 when the result is ok; 130 when interrupted (Ctrl-C), wherever it waits.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "api/api_client.h"
#include "base/host_port.h"
#include "cli/commands.h"
#include "cli/tunnel_command.h"
#include "service/paths.h"
#include "sip/uri.h"

namespace confab::cli {

namespace {

struct ClientArgs {
  std::string socket, tcp, token_file;
  int timeout_s = 70;  // a Join waits for the device to answer (ringing included)
};

api::ApiClient connect(const ClientArgs& a) {
  if (a.tcp.empty())
    return api::ApiClient::unix_socket(a.socket.empty() ? service::runtime_dir() + "/service.sock" : a.socket);
  auto tcp = base::parse_host_port(a.tcp, "--tcp");
  auto client = api::ApiClient::tcp(tcp.host, tcp.port);
  std::string token =
      service::read_token_file(a.token_file.empty() ? service::runtime_dir() + "/token" : a.token_file);
  auto r = client.call(api::ApiMessage("Auth").set("token", token));
  if (!r || r->attr("status") != "ok") throw std::runtime_error("the service refused our token");
  return client;
}

int send_and_print(const ClientArgs& a, const api::ApiMessage& request) {
  auto client = connect(a);
  auto r = client.call(request, std::chrono::seconds(a.timeout_s));
  if (!r) {
    std::cerr << "confab: no answer from the service\n";
    return 1;
  }
  std::cout << api::to_xml(*r) << std::endl;
  if (r->attr("status") == "ok") return 0;
  std::cerr << "confab: " << r->attr("code") << " " << r->attr("reason") << "\n";
  return 1;
}

// The runner of a client command: SIGINT/SIGTERM end it at once (main() blocks them for the servers).
Runner client_runner(std::function<int()> run) {
  return [run = std::move(run)] {
    exit_on_stop_signals();
    return run();
  };
}

void add_connection_options(CLI::App* cmd, ClientArgs& a) {
  cmd->add_option("--socket", a.socket, "the service's Unix socket (default $XDG_RUNTIME_DIR/confab/service.sock)");
  cmd->add_option("--tcp", a.tcp, "use the TCP API at HOST:PORT instead (with the token file)");
  cmd->add_option("--token-file", a.token_file, "token for --tcp (default $XDG_RUNTIME_DIR/confab/token)");
  cmd->add_option("--timeout", a.timeout_s, "seconds to wait for the result")->capture_default_str();
}

// A subcommand that builds one message from its arguments.
CLI::App* message_command(CLI::App& app, Runner& runner, const char* name, const char* help,
                          std::function<api::ApiMessage()> build, std::shared_ptr<ClientArgs> a) {
  auto* cmd = app.add_subcommand(name, help);
  add_connection_options(cmd, *a);
  cmd->callback([a, build, &runner] { runner = client_runner([a, build] { return send_and_print(*a, build()); }); });
  return cmd;
}

}  // namespace

std::string sip_target_of_link(const std::string& link) {
  auto colon = link.find(':');
  if (colon == std::string::npos) return {};
  std::string scheme = link.substr(0, colon), rest = link.substr(colon + 1);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (rest.rfind("//", 0) == 0) rest.erase(0, 2);  // callto://user and sip://user as some pages write them
  if (rest.empty() || rest.find_first_of(" <>\"\r\n") != std::string::npos) return {};
  if (scheme == "sip" || scheme == "sips") return scheme + ":" + rest;
  auto tel = [](const std::string& number) {
    std::string digits = sip::telephone_digits(number);
    return digits.empty() ? std::string() : "tel:" + digits;
  };
  if (scheme == "tel") return tel(rest);
  if (scheme == "callto") return rest.find('@') != std::string::npos ? "sip:" + rest : tel(rest);
  return {};
}

void add_client_commands(CLI::App& app, const GlobalOptions&, Runner& runner) {
  {
    auto a = std::make_shared<ClientArgs>();
    auto target = std::make_shared<std::string>();
    auto device = std::make_shared<std::string>();
    auto transfer = std::make_shared<bool>(false);
    auto* cmd = message_command(app, runner, "join", "put the user into a call or conference on a device", [=] {
      api::ApiMessage m("Join");
      m.set("id", *target);
      if (*transfer) m.set("mode", "transfer");
      if (!device->empty()) m.add(api::ApiMessage("Use").set("dev", *device));
      return m;
    }, a);
    cmd->add_option("uri", *target, "the SIP URI to join")->required();
    cmd->add_option("--device", *device, "device id or SIP URI (default: the service's default device)");
    cmd->add_flag("--transfer", *transfer, "transfer mode: the device calls the target, the service leaves");
  }
  for (auto [name, element, help] :
       {std::tuple{"external-join", "ExternalJoin", "join URI on the device the user chooses"},
        std::tuple{"same-device-join", "SameDeviceJoin", "move the current call to URI without hanging up"}}) {
    auto a = std::make_shared<ClientArgs>();
    auto target = std::make_shared<std::string>();
    std::string el = element;
    auto* cmd = message_command(app, runner, name, help, [=] { return api::ApiMessage(el).set("id", *target); }, a);
    cmd->add_option("uri", *target, "the SIP URI")->required();
  }
  {
    auto a = std::make_shared<ClientArgs>();
    auto uris = std::make_shared<std::vector<std::string>>();
    auto* cmd = message_command(app, runner, "invite", "add users to the current conference (or a new ad-hoc one)", [=] {
      api::ApiMessage m("Invite");
      for (auto& u : *uris) m.add(api::ApiMessage("Add").set("id", u));
      return m;
    }, a);
    cmd->add_option("uri", *uris, "SIP URIs of the users")->required();
  }
  {
    auto a = std::make_shared<ClientArgs>();
    auto origin = std::make_shared<std::string>();
    auto revoke = std::make_shared<bool>(false);
    auto* cmd = message_command(app, runner, "approve", "let web pages from ORIGIN use the service (WebSocket API)", [=] {
      api::ApiMessage m("Approve");
      m.set("origin", *origin);
      if (*revoke) m.set("revoke", "true");
      return m;
    }, a);
    cmd->add_option("origin", *origin, "e.g. https://app.example.com")->required();
    cmd->add_flag("--revoke", *revoke, "withdraw the approval");
  }
  {
    auto* cmd = app.add_subcommand("chooser", "print the address of the device chooser page (it carries a key)");
    cmd->callback([&runner] {
      runner = client_runner([] {
        std::ifstream in(service::runtime_dir() + "/chooser-url");
        std::string url;
        if (!std::getline(in, url) || url.empty()) {
          std::cerr << "confab: no chooser page: is `confab service` running (with its web API on)?\n";
          return 1;
        }
        std::cout << url << std::endl;
        return 0;
      });
    });
  }
  {
    auto a = std::make_shared<ClientArgs>();
    auto url = std::make_shared<std::string>();
    auto yes = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand("open", "the handler for sip:, sips:, tel: and callto: links: confirm, then ExternalJoin");
    add_connection_options(cmd, *a);
    cmd->add_option("url", *url, "the link")->required();
    cmd->add_flag("--yes,-y", *yes, "do not ask on the terminal");
    cmd->callback([a, url, yes, &runner] {
      runner = client_runner([a, url, yes] {
        std::string target = sip_target_of_link(*url);
        if (target.empty()) {
          std::cerr << "confab: not a sip:, sips:, tel: or callto: link: " << *url << "\n";
          return 2;
        }
        // On a terminal, confirm here; from a browser or desktop, the device chooser is the confirmation.
        if (!*yes && ::isatty(STDIN_FILENO)) {
          std::cout << "Join " << target << "? [y/N] " << std::flush;
          std::string answer;
          std::getline(std::cin, answer);
          if (answer != "y" && answer != "Y" && answer != "yes") return 1;
        }
        a->timeout_s = std::max(a->timeout_s, 180);  // the user may take a while to choose a device
        return send_and_print(*a, api::ApiMessage("ExternalJoin").set("id", target));
      });
    });
  }
  {
    auto a = std::make_shared<ClientArgs>();
    auto call = std::make_shared<std::string>();
    auto* cmd = message_command(app, runner, "hangup", "end the current call (or --call ID)", [=] {
      api::ApiMessage m("Hangup");
      if (!call->empty()) m.set("call", *call);
      return m;
    }, a);
    cmd->add_option("--call", *call, "the call id");
  }
  message_command(app, runner, "calls", "list the service's calls", [] { return api::ApiMessage("Calls"); },
                  std::make_shared<ClientArgs>());
  message_command(app, runner, "devices", "list the configured devices", [] { return api::ApiMessage("Devices"); },
                  std::make_shared<ClientArgs>());
  {
    auto a = std::make_shared<ClientArgs>();
    auto kinds = std::make_shared<std::string>("calls roster");
    auto* cmd = app.add_subcommand("events", "print call and roster events as they happen (until interrupted)");
    add_connection_options(cmd, *a);
    cmd->add_option("--kinds", *kinds, "event kinds")->capture_default_str();
    cmd->callback([a, kinds, &runner] {
      runner = client_runner([a, kinds] {
        auto client = connect(*a);
        auto r = client.call(api::ApiMessage("Subscribe").set("events", *kinds));
        if (!r || r->attr("status") != "ok") {
          std::cerr << "confab: " << (r ? r->attr("reason") : "no answer from the service") << "\n";
          return 1;
        }
        std::cout << api::to_xml(*r) << std::endl;
        while (!client.closed() && !client.failed()) {
          if (auto m = client.next(std::chrono::seconds(3600))) std::cout << api::to_xml(*m) << std::endl;
        }
        if (client.failed()) {
          std::cerr << "confab: unreadable input from the service: " << client.error() << "\n";
          return 1;
        }
        return 0;
      });
    });
  }
  // ---- confab tunnel (the work is in cli/tunnel_command.cpp) ----
  {
    auto a = std::make_shared<ClientArgs>();
    a->timeout_s = 40;  // the stack ends a transaction after 32 s
    auto t = std::make_shared<TunnelOptions>();
    auto* cmd = app.add_subcommand("tunnel", "send a raw SIP request through the service, print its responses");
    add_connection_options(cmd, *a);
    cmd->add_option("file", t->file, "the request: request line, header fields, blank line, body (- for stdin)")
        ->required();
    cmd->add_option("--call", t->call, "send it in this loop-mode call's dialog (see confab calls)");
    cmd->add_option("--leg", t->leg, "the call's dialog: target (default) or device");
    cmd->add_flag("--text", t->text, "print the responses as SIP text instead of XML lines");
    cmd->callback([a, t, &runner] {
      runner = client_runner([a, t] {
        auto client = connect(*a);
        return run_tunnel(client, *t, std::chrono::seconds(a->timeout_s));
      });
    });
  }
  {
    auto a = std::make_shared<ClientArgs>();
    auto xml = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand("api", "send one raw API message, print its result, e.g. confab api '<Calls/>'");
    add_connection_options(cmd, *a);
    cmd->add_option("xml", *xml, "the message")->required();
    cmd->callback([a, xml, &runner] {
      runner = client_runner([a, xml] {
        api::ApiMessage m;
        std::string error;
        if (!api::parse_one(*xml, m, &error)) throw std::runtime_error("not one XML element: " + error);
        return send_and_print(*a, m);
      });
    });
  }
}

}  // namespace confab::cli
