#include "service/devices/device_settings.h"

#include <charconv>

#include "base/host_port.h"

namespace confab::service {

void DeviceSettings::fail(const std::string& key, const std::string& what) const {
  throw std::runtime_error("device " + config_.id + " (" + config_.kind + "): setting '" + key + "' " + what);
}

bool DeviceSettings::has(const std::string& key) const {
  auto it = config_.settings.find(key);
  return it != config_.settings.end() && !it->second.empty();
}

std::string DeviceSettings::required(const std::string& key) {
  used_.insert(key);
  if (!has(key)) fail(key, "is missing");
  return config_.settings.at(key);
}

std::string DeviceSettings::optional(const std::string& key, const std::string& fallback) {
  used_.insert(key);
  return has(key) ? config_.settings.at(key) : fallback;
}

long DeviceSettings::integer(const std::string& key, long fallback, long low, long high) {
  std::string text = optional(key);
  if (text.empty()) return fallback;
  long value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size())
    fail(key, "must be a whole number, not '" + text + "'");
  if (value < low || value > high)
    fail(key, "must be between " + std::to_string(low) + " and " + std::to_string(high) + ", not " + text);
  return value;
}

uint16_t DeviceSettings::port(const std::string& key, int fallback) {
  if (!has(key) && fallback < 0) required(key);
  return static_cast<uint16_t>(integer(key, fallback, 1, 65535));
}

std::pair<uint16_t, uint16_t> DeviceSettings::port_range(const std::string& key) {
  std::string text = optional(key);
  if (text.empty()) return {0, 0};
  auto range = base::split_port_range(text);
  if (!range) fail(key, "must be LOW-HIGH (two ports, LOW <= HIGH), not '" + text + "'");
  return *range;
}

void DeviceSettings::reject_unknown() const {
  std::string unknown;
  for (auto& [k, v] : config_.settings)
    if (!used_.count(k)) unknown += (unknown.empty() ? "'" : ", '") + k + "'";
  if (unknown.empty()) return;
  std::string known;
  for (auto& k : used_) known += (known.empty() ? "" : ", ") + k;
  throw std::runtime_error("device " + config_.id + " (" + config_.kind + "): unknown setting " + unknown +
                           " (known: kind, name, " + known + ")");
}

bool is_safe_device_id(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  for (unsigned char c : id)
    if (!(isalnum(c) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace confab::service
