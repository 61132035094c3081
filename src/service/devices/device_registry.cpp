#include "service/devices/device_registry.h"

#include <stdexcept>

#include "sip/uri.h"

namespace confab::service {

DeviceRegistry::DeviceRegistry(const std::vector<DeviceConfig>& devices, const std::string& default_device)
    : default_(default_device) {
  for (auto& d : devices) {
    if (devices_.count(d.id)) throw std::runtime_error("device " + d.id + " is configured twice");
    devices_[d.id] = DeviceFactory::instance().make(d);
  }
  if (!default_.empty() && !known(default_))
    throw std::runtime_error("default_device '" + default_ + "' is neither a configured device nor a SIP URI");
  if (default_.empty() && devices_.size() == 1) {
    default_ = devices_.begin()->first;
    implied_ = true;
  }
}

bool DeviceRegistry::known(const std::string& device) const { return has(device) || sip::is_sip_uri(device); }

Device* DeviceRegistry::find(const std::string& id) const {
  auto it = devices_.find(id);
  return it == devices_.end() ? nullptr : it->second.get();
}

Device* DeviceRegistry::resolve(const std::string& device, std::shared_ptr<Device>& adhoc) const {
  if (auto* d = find(device)) return d;
  if (!sip::is_sip_uri(device)) return nullptr;
  adhoc = device_for_uri(device);
  return adhoc.get();
}

std::vector<std::pair<std::string, std::string>> DeviceRegistry::labels() const {
  std::vector<std::pair<std::string, std::string>> list;
  for (auto& [id, d] : devices_) list.emplace_back(id, d->name());
  return list;
}

api::ApiMessage DeviceRegistry::describe() const {
  api::ApiMessage list("Devices");
  for (auto& [id, d] : devices_) {
    api::ApiMessage m("Device");
    m.set("id", id).set("kind", d->kind()).set("name", d->name()).set("uri", d->sip_uri());
    m.set("mode", mode_name(d->default_mode()));
    if (id == default_) m.set("default", "true");
    list.add(m);
  }
  return list;
}

void DeviceRegistry::stop_all() {
  for (auto& [id, d] : devices_) d->stop();
}

}  // namespace confab::service
