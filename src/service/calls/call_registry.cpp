#include "service/calls/call_registry.h"

namespace confab::service {

CallRegistry::CallRegistry(sip::EventLoop& loop, sip::UserAgent& ua, Publish publish)
    : loop_(loop), ua_(ua), publish_(std::move(publish)) {}

CallRegistry::~CallRegistry() { clear(); }

ServiceCall& CallRegistry::add(std::unique_ptr<ServiceCall> call, CallState state) {
  ++(call->incoming() ? received_ : placed_);
  auto& stored = calls_[call->id()] = std::move(call);
  publish_("calls", describe(*stored, state));
  return *stored;
}

ServiceCall* CallRegistry::find(const std::string& id) const {
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : it->second.get();
}

ServiceCall* CallRegistry::current() const {
  auto* call = find(current_);
  return call && call->active() ? call : nullptr;
}

bool CallRegistry::device_in_use(const std::string& device, const std::string& except_call) const {
  for (auto& [id, c] : calls_)
    if (id != except_call && !c->ended() && c->device_id() == device) return true;
  return false;
}

api::ApiMessage CallRegistry::describe(const ServiceCall& call, CallState state) const {
  api::ApiMessage m("Call");
  m.set("id", call.id()).set("state", state_name(state)).set("mode", mode_name(call.mode()));
  m.set("device", call.device_id()).set("target", call.target_uri());
  if (call.id() == current_) m.set("current", "true");
  if (call.incoming()) m.set("direction", "incoming");
  return m;
}

api::ApiMessage CallRegistry::list() const {
  api::ApiMessage list("Calls");
  for (auto& [id, c] : calls_)
    if (!c->ended()) list.add(describe(*c, c->active() ? CallState::Active : CallState::Connecting));
  return list;
}

std::vector<api::ApiMessage> CallRegistry::rosters() const {
  std::vector<api::ApiMessage> out;
  for (auto& [id, w] : rosters_) out.push_back(w->snapshot());
  return out;
}

std::map<std::string, size_t> CallRegistry::count_by_state() const {
  std::map<std::string, size_t> counts{{"active", 0}, {"connecting", 0}, {"ended", 0}};
  for (auto& [id, c] : calls_) ++counts[c->ended() ? "ended" : c->active() ? "active" : "connecting"];
  return counts;
}

void CallRegistry::clear() {
  rosters_.clear();
  calls_.clear();  // hangs up what is left
}

void CallRegistry::on_call_state(ServiceCall& call, CallState state, int status, std::string_view reason) {
  bool loop_mode = call.mode() == CallMode::Loop;
  if (state == CallState::Active && loop_mode) current_ = call.id();
  auto event = describe(call, state);
  event.set("code", std::to_string(status)).set("reason", reason);
  call.log().debug("call {}: state {} ({} {})", call.id(), state_name(state), status, reason);
  publish_("calls", event);

  // A conference's roster; an incoming call's target is the caller, not a conference.
  if (loop_mode && (state == CallState::Moved || (state == CallState::Active && !call.incoming()))) {
    watch_roster(call);
  } else if (state == CallState::Ended) {
    forget_roster(call.id());
    if (current_ == call.id()) {
      current_.clear();
      for (auto& [id, c] : calls_)  // another active loop-mode call becomes current
        if (id != call.id() && c->active() && c->mode() == CallMode::Loop) current_ = id;
    }
  }
}

void CallRegistry::on_call_gone(ServiceCall& call) {
  loop_.post([this, alive = std::weak_ptr<int>(alive_), id = call.id()] {
    if (alive.lock()) calls_.erase(id);
  });
}

void CallRegistry::watch_roster(ServiceCall& call) {
  auto& slot = rosters_[call.id()];
  if (slot) slot->leave();
  slot = std::make_unique<RosterWatch>(ua_, call.target_uri(), call.id(),
                                       [this](const api::ApiMessage& event) { publish_("roster", event); });
}

void CallRegistry::forget_roster(const std::string& call_id) {
  auto it = rosters_.find(call_id);
  if (it == rosters_.end()) return;
  it->second->leave();
  rosters_.erase(it);
}

}  // namespace confab::service
