// End devices: what carries the user's media. One interface, one class per
// kind, created by name from the configuration (service.toml [devices.ID]),
// as Envoy registers its extensions.
//
// Kinds: "sip" (any SIP phone by URI), "pstn" (a tel: number through a SIP
// gateway), "softphone" (a program the service launches on demand and drives
// through its control interface: softphone_device.h) and "http" (a phone that
// calls the target itself when sent an HTTP request: http_device.h).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace confab::service {

class DeviceRuntime;  // service/device_runtime.h: the SIP loop and an I/O thread for devices

// (status, reason): 200 when done, else why not (a SIP-like status).
using DeviceDone = std::function<void(int status, const std::string& reason)>;

enum class CallMode { Loop, Transfer };
std::string_view mode_name(CallMode mode);  // "loop", "transfer"

struct DeviceConfig {
  std::string id;    // the name apps use: <Use dev="desk"/>
  std::string kind = "sip";
  std::string name;  // shown to the user
  std::map<std::string, std::string> settings;  // kind-specific: uri, number, gateway, mode, ...
};

class Device {
 public:
  virtual ~Device() = default;
  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  virtual std::string_view kind() const = 0;
  // The SIP URI the service INVITEs to reach the device.
  virtual std::string sip_uri() const = 0;
  // The mode used when a request does not name one.
  CallMode default_mode() const { return default_mode_; }

  // Gets the device ready before each call (launch a softphone, check that it
  // answers); `done` runs later on the SIP thread, never blocking it. Immediate
  // for kinds that need nothing.
  virtual void prepare(DeviceRuntime& runtime, DeviceDone done) { done(200, "OK"); }
  // Devices that reach the target by themselves (click-to-dial) take no SIP
  // call: the service asks them with dial() instead, in transfer mode only.
  virtual bool dials_itself() const { return false; }
  virtual void dial(DeviceRuntime& runtime, const std::string& target, DeviceDone done) {
    done(501, "this device cannot dial by itself");
  }
  // The service hung up its last call on the device (API Hangup): a device
  // with a control interface makes sure it holds no call any more.
  virtual void calls_ended(DeviceRuntime& runtime) {}
  // The service stops: stop whatever was launched for the device (bounded wait).
  virtual void stop() {}

 protected:
  Device(const DeviceConfig& config);
  std::string id_, name_;
  CallMode default_mode_ = CallMode::Loop;
};

// Creates devices by kind. Throws std::runtime_error naming the device and the
// problem (unknown kind, missing or bad setting).
class DeviceFactory {
 public:
  using Maker = std::function<std::unique_ptr<Device>(const DeviceConfig&)>;
  static DeviceFactory& instance();  // with the built-in kinds registered
  void add(const std::string& kind, Maker maker);
  std::unique_ptr<Device> make(const DeviceConfig& config) const;
  std::vector<std::string> kinds() const;

 private:
  std::map<std::string, Maker> makers_;
};

// A device given as a bare SIP URI in a request (<Use dev="sip:..."/>).
std::unique_ptr<Device> device_for_uri(const std::string& uri);

}  // namespace confab::service
