#include "conference/conference_control.h"

#include <boost/json.hpp>

namespace confab::conference {

namespace json = boost::json;
using control::Answer;
using control::Args;

void add_conference_commands(control::ControlServer& control, ConferenceServer& server,
                             std::function<std::string()> reload) {
  control.add("conferences", "", "every conference with its participants (as GET /conferences)",
              [&server](const Args&) { return Answer::done(json::parse(server.conferences_json())); });
  control.add("conference", "ID", "one conference (as GET /conferences/ID)", [&server](const Args& args) {
    if (args.size() != 1) return Answer::fail("usage: conference ID");
    auto one = server.conference_json(args[0]);
    return one ? Answer::done(json::parse(*one)) : Answer::fail("no conference '" + args[0] + "'");
  });
  control.add("end", "ID", "hangs up every participant of conference ID", [&server](const Args& args) {
    if (args.size() != 1) return Answer::fail("usage: end ID");
    return server.end_conference(args[0]) ? Answer::done(json::string("ending " + args[0]))
                                          : Answer::fail("no conference '" + args[0] + "'");
  });
  control.add("kick", "PARTICIPANT", "hangs up one participant (its id, e.g. p3, from `conferences`)",
              [&server](const Args& args) {
                if (args.size() != 1) return Answer::fail("usage: kick PARTICIPANT (e.g. p3)");
                return server.remove_participant(args[0]) ? Answer::done(json::string("hanging up " + args[0]))
                                                          : Answer::fail("no participant '" + args[0] + "'");
              });
  control.add("reload", "", "re-reads the configuration and applies what can change live (also on SIGHUP)",
              [reload](const Args&) { return Answer::done(json::string(reload())); });
}

}  // namespace confab::conference
