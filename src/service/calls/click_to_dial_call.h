// A call through a device that dials by itself (kind "http"): the service asks
// the device to call the target and leaves, as in transfer mode. No SIP dialog
// is involved; the call ends as soon as the device has said yes or no.
#pragma once

#include <memory>
#include <string>

#include "service/devices/device.h"
#include "service/devices/device_runtime.h"
#include "service/calls/service_call.h"

namespace confab::service {

class ClickToDialCall final : public ServiceCall {
 public:
  ClickToDialCall(DeviceRuntime& runtime, CallObserver& observer, std::string id, Device& device, std::string target_uri);

  void start(Completion done) override;
  void hangup() override;  // gives up waiting for the device's answer (the phone may still call)
  CallMode mode() const override { return CallMode::Transfer; }
  bool active() const override { return false; }
  bool ended() const override { return ended_; }

 private:
  void finish(int status, const std::string& reason);

  DeviceRuntime& runtime_;
  Device& device_;
  Completion done_;
  bool ended_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // the device may answer after we are gone
};

}  // namespace confab::service
