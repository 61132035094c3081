// The conference server's commands on its control socket (`confab ctl conference ...`).
#pragma once

#include "conference/conference_server.h"
#include "control/control_server.h"

namespace confab::conference {

// conferences, conference ID, end ID, kick PARTICIPANT.
void add_conference_commands(control::ControlServer& control, ConferenceServer& server);

}  // namespace confab::conference
