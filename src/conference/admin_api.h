// The conference server's admin API for server-side applications (the game
// server, operators): HTTP/JSON on loopback, bearer-token protected. Routes and
// bodies are in docs/api.md.
#pragma once

#include <memory>

#include "http/http_server.h"

namespace confab::conference {

class ConferenceServer;

// Binds config().admin_host:admin_port and serves until the Server is destroyed.
std::unique_ptr<http::Server> start_admin_api(ConferenceServer& server);

}  // namespace confab::conference
