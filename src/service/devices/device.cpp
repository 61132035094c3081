#include "service/devices/device.h"

#include <stdexcept>

#include "service/devices/http_device.h"
#include "service/devices/softphone_device.h"
#include "sip/uri.h"

namespace confab::service {

std::string_view mode_name(CallMode mode) { return mode == CallMode::Loop ? "loop" : "transfer"; }

namespace {

std::string setting(const DeviceConfig& c, const std::string& key) {
  auto it = c.settings.find(key);
  if (it == c.settings.end() || it->second.empty())
    throw std::runtime_error("device " + c.id + " (" + c.kind + "): missing setting '" + key + "'");
  return it->second;
}

std::string checked_sip_uri(const std::string& id, const std::string& uri) {
  auto parsed = sip::Uri::parse(uri);
  if (!parsed || (parsed->scheme() != "sip" && parsed->scheme() != "sips"))
    throw std::runtime_error("device " + id + ": '" + uri + "' is not a sip: or sips: URI");
  return uri;
}

// Any SIP phone (hard or soft) reachable by URI.
class SipDevice final : public Device {
 public:
  explicit SipDevice(const DeviceConfig& c) : Device(c), uri_(checked_sip_uri(c.id, setting(c, "uri"))) {}
  std::string_view kind() const override { return "sip"; }
  std::string sip_uri() const override { return uri_; }

 private:
  std::string uri_;
};

// A telephone number through a SIP gateway: sip:<digits>@<gateway>;user=phone.
class PstnDevice final : public Device {
 public:
  explicit PstnDevice(const DeviceConfig& c) : Device(c) {
    std::string number = setting(c, "number"), digits = sip::telephone_digits(number);
    if (digits.empty()) throw std::runtime_error("device " + c.id + ": '" + number + "' is not a telephone number");
    std::string gateway = setting(c, "gateway");
    if (gateway.rfind("sip:", 0) == 0) gateway.erase(0, 4);
    uri_ = checked_sip_uri(c.id, "sip:" + digits + "@" + gateway + ";user=phone");
  }
  std::string_view kind() const override { return "pstn"; }
  std::string sip_uri() const override { return uri_; }

 private:
  std::string uri_;
};

}  // namespace

Device::Device(const DeviceConfig& config) : id_(config.id), name_(config.name.empty() ? config.id : config.name) {
  auto it = config.settings.find("mode");
  if (it != config.settings.end()) {
    if (it->second == "transfer")
      default_mode_ = CallMode::Transfer;
    else if (it->second != "loop")
      throw std::runtime_error("device " + config.id + ": mode must be loop or transfer, not '" + it->second + "'");
  }
}

DeviceFactory& DeviceFactory::instance() {
  static DeviceFactory factory = [] {
    DeviceFactory f;
    f.add("sip", [](const DeviceConfig& c) { return std::make_unique<SipDevice>(c); });
    f.add("pstn", [](const DeviceConfig& c) { return std::make_unique<PstnDevice>(c); });
    f.add("softphone", make_softphone_device);
    f.add("http", make_http_device);
    return f;
  }();
  return factory;
}

void DeviceFactory::add(const std::string& kind, Maker maker) { makers_[kind] = std::move(maker); }

std::unique_ptr<Device> DeviceFactory::make(const DeviceConfig& config) const {
  auto it = makers_.find(config.kind);
  if (it == makers_.end()) {
    std::string known;
    for (auto& k : kinds()) known += (known.empty() ? "" : ", ") + k;
    throw std::runtime_error("device " + config.id + ": unknown kind '" + config.kind + "' (known: " + known + ")");
  }
  return it->second(config);
}

std::vector<std::string> DeviceFactory::kinds() const {
  std::vector<std::string> out;
  for (auto& [k, _] : makers_) out.push_back(k);
  return out;
}

std::unique_ptr<Device> device_for_uri(const std::string& uri) {
  DeviceConfig c;
  c.id = uri;
  c.settings["uri"] = uri;
  return std::make_unique<SipDevice>(c);
}

}  // namespace confab::service
