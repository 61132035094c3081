// The mixer's commands on its control socket (`confab ctl mixer ...`).
#pragma once

#include "control/control_server.h"
#include "mixer/mixer_server.h"

namespace confab::mixer {

// mixes (every mix and leg, as GET /mixes), stats (the engine's counters).
void add_mixer_commands(control::ControlServer& control, MixerServer& server);

}  // namespace confab::mixer
