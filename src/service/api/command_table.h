// The service's commands, keyed by element name (as baresip's command table):
// the built-in ones (service/builtin_commands.cpp), the Tunnel's and plugins'.
// dispatch() runs the one a message names, with the rules of who may call
// what: web pages (approved origins) get the call commands only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/api_message.h"
#include "service/api/reply.h"

namespace confab::service {

class ApiConnection;

class CommandTable {
 public:
  // Parses `message`, acts, answers through `reply` (once, now or later).
  using Command = std::function<void(const api::ApiMessage& message, const Reply& reply)>;

  // False (nothing changed) if `name` is taken.
  bool add(const std::string& name, Command command);
  bool has(const std::string& name) const { return commands_.count(name) > 0; }
  std::vector<std::string> names() const;

  // Runs the command `message` names for `from`; answers unknown commands
  // (501, listing the known ones), refused ones (403) and failures (500) itself.
  void dispatch(const std::shared_ptr<ApiConnection>& from, const api::ApiMessage& message) const;

  // What a web page may call: place and follow the user's calls. Not raw SIP
  // (Tunnel, plugins), approving origins or answering the user's device
  // choices, which stay with local programs and the chooser page.
  static bool web_may_call(const std::string& name);

 private:
  std::map<std::string, Command> commands_;
};

// Connections of web pages ("web:<origin>") as opposed to local programs.
bool from_web_page(const ApiConnection& connection);
// The origin of a web page's connection ("https://films.example"); "" for local programs.
std::string web_origin(const ApiConnection& connection);

}  // namespace confab::service
