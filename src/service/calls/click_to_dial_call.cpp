#include "service/calls/click_to_dial_call.h"

#include <spdlog/spdlog.h>

namespace confab::service {

ClickToDialCall::ClickToDialCall(DeviceRuntime& runtime, CallObserver& observer, std::string id, Device& device,
                                 std::string target_uri)
    : ServiceCall(observer, std::move(id), device.id(), device.sip_uri(), std::move(target_uri)),
      runtime_(runtime),
      device_(device) {}

void ClickToDialCall::start(Completion done) {
  done_ = std::move(done);
  log().info("call {}: asking device {} to call {}", id_, device_id_, target_uri_);
  device_.dial(runtime_, target_uri_, [this, alive = std::weak_ptr<int>(alive_)](int status, const std::string& reason) {
    if (alive.lock()) finish(status, reason);
  });
}

void ClickToDialCall::hangup() { finish(487, "hung up before the device answered"); }

void ClickToDialCall::finish(int status, const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  if (status < 300) observer_.on_call_state(*this, CallState::Transferred, 200, target_uri_);
  observer_.on_call_state(*this, CallState::Ended, status, reason);
  if (done_) std::exchange(done_, nullptr)(status, reason);
  observer_.on_call_gone(*this);
}

}  // namespace confab::service
