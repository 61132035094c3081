// Reading a device's kind-specific settings ([devices.<id>] in service.toml)
// with errors that name the device and the setting, and no silent typos: a
// setting the kind does not know is an error too.
#pragma once

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "service/devices/device.h"

namespace confab::service {

class DeviceSettings {
 public:
  explicit DeviceSettings(const DeviceConfig& config) : config_(config) { used_.insert("mode"); }

  // std::runtime_error "device ID (KIND): setting 'KEY' WHAT".
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  std::string required(const std::string& key);
  std::string optional(const std::string& key, const std::string& fallback = "");
  bool has(const std::string& key) const;
  // 1-65535.
  uint16_t port(const std::string& key, int fallback = -1);
  // "LOW-HIGH" with LOW <= HIGH, both ports; {0,0} if absent.
  std::pair<uint16_t, uint16_t> port_range(const std::string& key);
  // An integer within [low, high].
  long integer(const std::string& key, long fallback, long low, long high);
  // Throws naming every setting that was never read (unknown to the kind).
  void reject_unknown() const;

  const DeviceConfig& config() const { return config_; }

 private:
  const DeviceConfig& config_;
  std::set<std::string> used_;
};

// Device ids name files under the runtime directory: 1-64 of A-Z a-z 0-9 . _ -, not starting with '.'.
bool is_safe_device_id(const std::string& id);

}  // namespace confab::service
