// End devices: what carries the user's media. One interface, one class per
// kind, created by name from the configuration (service.toml [devices.ID]),
// as Envoy registers its extensions.
//
// Kinds today: "sip" (any SIP phone by URI) and "pstn" (a tel: number through
// a SIP gateway). The service reaches every device by a SIP URI; kinds that
// must first be started or driven another way (a softphone launched on demand,
// an HTTP click-to-dial phone) plug in here.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace confab::service {

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
