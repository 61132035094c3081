// What the service knows of every call it placed for an application, whatever
// the mode: the loop-mode ThirdPartyCall and the transfer-mode TransferCall.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "service/device.h"

namespace confab::service {

class ServiceCall;

class CallObserver {
 public:
  virtual ~CallObserver() = default;
  // "ringing" (the device rings), "active", "moving", "moved", "transferred", "ended".
  virtual void on_call_state(ServiceCall& call, std::string_view state, int status, std::string_view reason) = 0;
  // Every leg is gone; the observer may destroy the call afterwards (not inside).
  virtual void on_call_gone(ServiceCall& call) = 0;
};

// (status, reason): 200 on success, else the SIP status that stopped it.
using Completion = std::function<void(int status, const std::string& reason)>;

class ServiceCall {
 public:
  virtual ~ServiceCall() = default;
  virtual void start(Completion done) = 0;
  virtual void hangup() = 0;
  virtual CallMode mode() const = 0;
  virtual bool active() const = 0;
  virtual bool ended() const = 0;

  const std::string& id() const { return id_; }
  const std::string& device_id() const { return device_id_; }
  const std::string& device_uri() const { return device_uri_; }
  const std::string& target_uri() const { return target_uri_; }

 protected:
  ServiceCall(CallObserver& observer, std::string id, std::string device_id, std::string device_uri,
              std::string target_uri)
      : observer_(observer),
        id_(std::move(id)),
        device_id_(std::move(device_id)),
        device_uri_(std::move(device_uri)),
        target_uri_(std::move(target_uri)) {}
  CallObserver& observer_;
  std::string id_, device_id_, device_uri_, target_uri_;
};

}  // namespace confab::service
