// Settings of `confab game` from its command line (the world's own settings
// are in its file, world.h): each read with an error that names the option.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/host_port.h"

namespace confab::game {

struct GameOptions {
  base::HostPort listen{"127.0.0.1", 8081};  // HTTP: the page, its script, the WebSocket
  // The conference server's "host[:port]" (zones are sip:<world>-<zone>@it); "": no SIP voice.
  std::string conference_host;
  std::string admin_url;    // the conference server's admin API, "http://HOST:PORT"; "": none
  std::string admin_token;  // its bearer token, from --admin-token-file
  base::HostPort sip{"127.0.0.1", 5075};
  // Bots that wander the world from the start (name, SIP address): the demo's.
  std::vector<std::pair<std::string, std::string>> bots;  // the game's SIP address (REFERs and SUBSCRIBEs of the server voice)
  std::string world_file;   // "": the default world
  size_t max_connections = 1000;
  std::chrono::milliseconds join_timeout{10000};  // a connection that has not joined by then is closed
};

// --admin: "http://HOST:PORT" (a trailing "/" allowed), returned without the slash.
std::string parse_admin_url(std::string_view text);

}  // namespace confab::game
