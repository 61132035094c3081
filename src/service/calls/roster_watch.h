// Watches the roster of the conference a loop-mode call is in: SUBSCRIBEs to
// its conference event package (RFC 4575) and turns every NOTIFY into one
// normalized API event listing who joined and who left since the last one:
//   <Roster conference="sip:room7@conf" call="c3"><Joined uri=".." name=".."/><Left uri=".."/></Roster>
// A version gap re-SUBSCRIBEs for full state (RFC 4575 section 4.6). A target
// that is not a conference refuses the SUBSCRIBE and the watch stays silent.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "api/api_message.h"
#include "conference_events/conference_subscription.h"
#include "sip/user_agent.h"

namespace confab::service {

class RosterWatch final {
 public:
  using OnEvent = std::function<void(const api::ApiMessage& event)>;
  RosterWatch(sip::UserAgent& ua, std::string conference, std::string call_id, OnEvent on_event);
  ~RosterWatch();  // un-SUBSCRIBEs

  // Reports everyone known as having left (the call left the conference).
  void leave();
  const std::string& conference() const { return conference_; }
  // The current members as a <Roster> element with one <Member> per user.
  api::ApiMessage snapshot() const;

 private:
  void changed(const std::vector<conference_events::RosterMember>& members);

  std::string conference_, call_id_;
  OnEvent on_event_;
  std::map<std::string, std::string> members_;  // entity -> display name, as last reported
  std::unique_ptr<conference_events::ConferenceSubscription> subscription_;
};

}  // namespace confab::service
