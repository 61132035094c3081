// The user's devices as configured (service.toml [devices.ID]), the default
// one, and devices named by bare SIP URI in a request (<Use dev="sip:..."/>).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/api_message.h"
#include "service/devices/device.h"

namespace confab::service {

class DeviceRegistry {
 public:
  // Makes every configured device (throws std::runtime_error naming the one
  // that is wrong). `default_device`: an id or a SIP URI; "" means the only
  // device when exactly one is configured, else none.
  DeviceRegistry(const std::vector<DeviceConfig>& devices, const std::string& default_device);

  bool empty() const { return devices_.empty(); }
  size_t size() const { return devices_.size(); }
  bool has(const std::string& id) const { return devices_.count(id) > 0; }
  // A configured id or a SIP URI.
  bool known(const std::string& device) const;
  // The device used when a request names none; "" if there is none.
  const std::string& default_device() const { return default_; }
  // True when the default is the only device, not one the user named.
  bool default_is_implied() const { return implied_; }

  // A configured device by id, or one made for a SIP URI (kept alive by
  // `adhoc`); null if neither.
  Device* resolve(const std::string& device, std::shared_ptr<Device>& adhoc) const;
  Device* find(const std::string& id) const;
  // (id, name) of each configured device, for the desktop dialog.
  std::vector<std::pair<std::string, std::string>> labels() const;
  // <Devices><Device id=".." kind=".." name=".." uri=".." mode=".." default="true"/>...</Devices>
  api::ApiMessage describe() const;
  // The service stops: launched softphones quit.
  void stop_all();

 private:
  std::map<std::string, std::unique_ptr<Device>> devices_;
  std::string default_;
  bool implied_ = false;
};

}  // namespace confab::service
