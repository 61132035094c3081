#include "service/calls/service_call.h"

#include "sip/user_agent.h"

namespace confab::service {

std::string_view state_name(CallState state) {
  switch (state) {
    case CallState::Calling: return "calling";
    case CallState::Connecting: return "connecting";
    case CallState::Incoming: return "incoming";
    case CallState::Ringing: return "ringing";
    case CallState::Active: return "active";
    case CallState::Moving: return "moving";
    case CallState::Moved: return "moved";
    case CallState::Transferred: return "transferred";
    case CallState::Ended: return "ended";
  }
  return "ended";
}

void ServiceCall::add_call_ids(base::CallLog& log) const {
  for (std::string_view leg : {"device", "target"})
    if (sip::Call* d = dialog(leg)) log.add_call_id(d->call_id());
}

const base::CallLog& ServiceCall::log() const {
  add_call_ids(log_);
  return log_;
}

void ServiceCall::move_to(const std::string&, bool, MoveCompletion done) {
  done(409, "call " + id_ + " is in transfer mode: the service has left it and cannot move it", "");
}

void ServiceCall::refer_target(const std::string&, Completion done) {
  done(409, "call " + id_ + " is in transfer mode: the service holds none of its dialogs");
}

}  // namespace confab::service
