// What the service knows of every call it placed or answered, whatever the
// mode: the loop-mode ThirdPartyCall, the transfer-mode TransferCall and the
// ClickToDialCall. Callers see only this interface; what a mode cannot do
// (move a call it has left, say) it refuses with a status.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/log_context.h"
#include "service/devices/device.h"

namespace confab::sip {
class Call;
}

namespace confab::service {

class ServiceCall;

// The states a call reports to applications (docs/api.md, <Call state="..">).
enum class CallState {
  Calling,      // placed, the device not ringing yet
  Connecting,   // in <Calls>: placed or answered, not active yet
  Incoming,     // someone calls the user; the device is being rung
  Ringing,      // the device rings
  Active,       // media flows device <-> target, the service in the signalling
  Moving,       // SameDeviceJoin under way
  Moved,        // now with another target
  Transferred,  // the device talks to the target; the service has left
  Ended,
};
std::string_view state_name(CallState state);  // "calling", "incoming", ...

class CallObserver {
 public:
  virtual ~CallObserver() = default;
  virtual void on_call_state(ServiceCall& call, CallState state, int status, std::string_view reason) = 0;
  // Every leg is gone; the observer may destroy the call afterwards (not inside).
  virtual void on_call_gone(ServiceCall& call) = 0;
};

// (status, reason): 200 on success, else the SIP status that stopped it.
using Completion = std::function<void(int status, const std::string& reason)>;
// A move's outcome; `how` is "replaces" or "reinvite".
using MoveCompletion = std::function<void(int status, const std::string& reason, const std::string& how)>;

class ServiceCall {
 public:
  virtual ~ServiceCall() = default;
  virtual void start(Completion done) = 0;
  virtual void hangup() = 0;
  virtual CallMode mode() const = 0;
  virtual bool active() const = 0;
  virtual bool ended() const = 0;
  // Someone called the user (the target is the caller, not a conference).
  virtual bool incoming() const { return false; }

  // Moves the device to `target` without it hanging up (SameDeviceJoin);
  // `try_replaces`: attempt RFC 3891 first. Only loop-mode calls can.
  virtual void move_to(const std::string& target, bool try_replaces, MoveCompletion done);
  // RFC 4579: asks the target (a conference) to invite `uri`; `done` gets the
  // REFER's final status (202: accepted). Only loop-mode calls can.
  virtual void refer_target(const std::string& uri, Completion done);
  // The established SIP dialog with the "device" or the "target", for
  // extensions sending requests of their own in it; null if there is none.
  virtual sip::Call* dialog(std::string_view leg) const { return nullptr; }

  const std::string& id() const { return id_; }
  const std::string& device_id() const { return device_id_; }
  const std::string& device_uri() const { return device_uri_; }
  const std::string& target_uri() const { return target_uri_; }
  // Every line about this call goes through it: "[call-id=...]" with the
  // Call-IDs of its dialogs known so far (the device's, the target's, a new
  // target's). A click-to-dial call has none: the device places it.
  const base::CallLog& log() const;

 protected:
  // Adds the Call-IDs of this call's dialogs to `log` (default: dialog("device") and dialog("target")).
  virtual void add_call_ids(base::CallLog& log) const;
  ServiceCall(CallObserver& observer, std::string id, std::string device_id, std::string device_uri,
              std::string target_uri)
      : observer_(observer),
        id_(std::move(id)),
        device_id_(std::move(device_id)),
        device_uri_(std::move(device_uri)),
        target_uri_(std::move(target_uri)) {}
  CallObserver& observer_;
  std::string id_, device_id_, device_uri_, target_uri_;

 private:
  mutable base::CallLog log_;
};

}  // namespace confab::service
