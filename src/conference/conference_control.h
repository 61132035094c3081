// The conference server's commands on its control socket (`confab ctl conference ...`).
#pragma once

#include <functional>
#include <string>

#include "conference/conference_server.h"
#include "control/control_server.h"

namespace confab::conference {

// conferences, conference ID, end ID, kick PARTICIPANT, reload (`reload` re-reads
// the configuration and says what it applied, as SIGHUP does).
void add_conference_commands(control::ControlServer& control, ConferenceServer& server,
                             std::function<std::string()> reload);

}  // namespace confab::conference
