#include "mixer/mixer_control.h"

#include <boost/json.hpp>

namespace confab::mixer {

namespace json = boost::json;
using control::Answer;
using control::Args;

void add_mixer_commands(control::ControlServer& control, MixerServer& server) {
  control.add("mixes", "", "every mix and its legs (as GET /mixes)",
              [&server](const Args&) { return Answer::done(json::parse(server.mixes_json())); });
  control.add("stats", "", "the mixing engine's counters (as GET /metrics.json)", [&server](const Args&) {
    auto m = server.engine().metrics();
    return Answer::done(json::object{{"ticks", m.ticks}, {"late_ticks", m.late_ticks}, {"encodes", m.encodes},
                                     {"shared_encodes", m.shared_encodes}, {"legs", m.legs}, {"mixes", m.mixes},
                                     {"busy_us", m.busy_us}, {"max_work_us", m.max_work_us},
                                     {"max_wake_late_us", m.max_wake_late_us}});
  });
}

}  // namespace confab::mixer
