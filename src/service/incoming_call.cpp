// Calls to the user's identity: ClientService's side of incoming calls.
#include <spdlog/spdlog.h>

#include "service/client_service.h"
#include "service/device_runtime.h"
#include "service/third_party_call.h"
#include "service/tunnel.h"

namespace confab::service {

// A call to the user's identity rings incoming_device (default: default_device)
// as a loop-mode call, so SameDeviceJoin, Hangup and the events work on it too.
void ClientService::on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) {
  const sip::Message& m = invite.message();
  std::string from = m.from_uri();
  std::string dev = config_.incoming_device.empty() ? config_.default_device : config_.incoming_device;
  std::shared_ptr<Device> adhoc;
  Device* device = dev == "off" ? nullptr : resolve_device(dev, adhoc);
  if (!device || device->dials_itself()) {
    spdlog::info("service: incoming call from {} declined: {}", from,
                 device ? "device " + dev + " cannot be rung" : "no incoming_device or default_device");
    return invite.respond(480, "Temporarily Unavailable");
  }
  if (!m.body().empty() && m.content_type() != "application/sdp")
    return invite.respond(415, "Unsupported Media Type", {{"Accept", "application/sdp"}});
  auto pending = std::make_shared<std::pair<std::shared_ptr<sip::Call>, sip::IncomingRequest>>(call, std::move(invite));
  device->prepare(*device_runtime_, [this, device, adhoc, pending](int status, const std::string& reason) {
    if (!ua_ || device_runtime_->stopped()) return;
    if (status >= 300) {
      spdlog::warn("service: incoming call: device {} not ready ({} {})", device->id(), status, reason);
      return pending->second.respond(480, "Temporarily Unavailable");
    }
    if (pending->first->terminated()) return;  // the caller gave up meanwhile
    answer_incoming(*device, pending->first, std::move(pending->second));
  });
}

void ClientService::answer_incoming(Device& device, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite) {
  std::string id = "c" + std::to_string(next_call_++);
  const sip::Message& m = invite.message();
  std::string from = m.from_uri();
  sip::CallOptions options;
  // The device shows who is calling, not the service (the display name without quotes or escapes).
  std::string display;
  for (char c : m.from_display())
    if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\') display += c;
  options.from = display.empty() ? "<" + from + ">" : "\"" + display + "\" <" + from + ">";
  auto call = std::make_unique<ThirdPartyCall>(loop_, *ua_, *this, id, device.id(), device.sip_uri(), from, options,
                                               std::chrono::seconds(config_.keepalive_s));
  call->set_leg_listener(tunnel_.get());
  auto* raw = call.get();
  calls_[id] = std::move(call);
  spdlog::info("service: incoming call {} from {} rings {}", id, from, device.id());
  raw->answer(std::move(caller), std::move(invite), [id](int status, const std::string& reason) {
    if (status >= 300) spdlog::info("service: incoming call {} not connected ({} {})", id, status, reason);
  });
  if (!raw->ended()) publish("calls", describe(*raw, "incoming"));
}

}  // namespace confab::service
