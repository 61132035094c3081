// The proxy's commands on its control socket (`confab ctl proxy ...`).
#pragma once

#include <functional>
#include <string>

#include "control/control_server.h"
#include "proxy/proxy_server.h"

namespace confab::proxy {

// registrations [AOR], kick AOR, stats, reload (`reload()` re-reads the
// configuration and hands it to ProxyServer::reload).
void add_proxy_commands(control::ControlServer& control, ProxyServer& server, std::function<std::string()> reload);

}  // namespace confab::proxy
