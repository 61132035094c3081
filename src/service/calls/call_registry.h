// The service's calls by id, which one is current (the loop-mode call that
// SameDeviceJoin and Invite act on), and the roster of the conference each
// loop-mode call is in. It observes every call and turns what happens into
// API events: <Call state=".."> (kind "calls") and <Roster> (kind "roster").
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/api_message.h"
#include "service/calls/roster_watch.h"
#include "service/calls/service_call.h"
#include "sip/event_loop.h"
#include "sip/user_agent.h"

namespace confab::service {

class CallRegistry final : public CallObserver {
 public:
  using Publish = std::function<void(const std::string& kind, const api::ApiMessage& event)>;
  CallRegistry(sip::EventLoop& loop, sip::UserAgent& ua, Publish publish);
  ~CallRegistry() override;

  // "c1", "c2", ...: the id of the next call.
  std::string next_id() { return "c" + std::to_string(next_call_++); }
  // Keeps `call` and announces it in `state` (Calling, Incoming).
  ServiceCall& add(std::unique_ptr<ServiceCall> call, CallState state);
  ServiceCall* find(const std::string& id) const;
  // The current call if it is active, else null.
  ServiceCall* current() const;
  const std::string& current_id() const { return current_; }
  // Another call of the service, not ended, uses `device`.
  bool device_in_use(const std::string& device, const std::string& except_call) const;

  // <Call id=".." state=".." mode=".." device=".." target=".." [current="true"] [direction="incoming"]/>
  api::ApiMessage describe(const ServiceCall& call, CallState state) const;
  // <Calls> with every call not ended ("active" or "connecting").
  api::ApiMessage list() const;
  // The <Roster> of every conference a call is in.
  std::vector<api::ApiMessage> rosters() const;
  // For the metrics: calls placed or received since start, and the calls kept now by state.
  uint64_t placed() const { return placed_; }
  uint64_t received() const { return received_; }
  std::map<std::string, size_t> count_by_state() const;  // "active", "connecting", "ended"
  // Hangs up every call, silently (the service stops).
  void clear();

  // CallObserver
  void on_call_state(ServiceCall& call, CallState state, int status, std::string_view reason) override;
  void on_call_gone(ServiceCall& call) override;

 private:
  void watch_roster(ServiceCall& call);
  void forget_roster(const std::string& call_id);

  sip::EventLoop& loop_;
  sip::UserAgent& ua_;
  Publish publish_;
  std::map<std::string, std::unique_ptr<ServiceCall>> calls_;   // by call id
  std::map<std::string, std::unique_ptr<RosterWatch>> rosters_;  // by call id (loop mode)
  std::string current_;
  uint64_t next_call_ = 1;
  uint64_t placed_ = 0, received_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted erasures after our end are dropped
};

}  // namespace confab::service
