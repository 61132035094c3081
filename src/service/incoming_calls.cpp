// Calls to the user's identity. Each rings a device as a loop-mode call, so
// SameDeviceJoin, Hangup and the events work on it too. Which device:
// incoming_device if set; else the user's pick (DeviceChooser: the chooser
// page if one is open, a desktop dialog when a display is present; the caller
// hears it ring meanwhile); else the default device.
#include <spdlog/spdlog.h>

#include "service/calls/sip_leg.h"
#include "service/calls/third_party_call.h"
#include "service/client_service.h"
#include "service/devices/device_runtime.h"
#include "service/tunnel/tunnel.h"

namespace confab::service {

namespace {

// The caller while the user picks a device: if it gives up (CANCEL), `gone`
// runs (posted: the handler is not destroyed inside its own callback).
class CallerWatch final : public sip::CallHandler {
 public:
  CallerWatch(sip::EventLoop& loop, std::function<void()> gone) : loop_(loop), gone_(std::move(gone)) {}
  void on_terminated(sip::Call&, int, std::string_view) override {
    if (gone_) loop_.post(std::exchange(gone_, nullptr));
  }

 private:
  sip::EventLoop& loop_;
  std::function<void()> gone_;
};

// The final response an incoming call gets when the user picked no device.
std::pair<int, const char*> refusal(const DeviceChooser::Decision& d) {
  using O = DeviceChooser::Outcome;
  if (d.outcome == O::Declined) return {603, "Decline"};
  if (d.outcome == O::Cancelled) return {487, "Request Terminated"};
  return {480, "Temporarily Unavailable"};
}

}  // namespace

void ClientService::on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) {
  if (!admit_incoming(invite)) return;
  std::string from = invite.message().from_uri();
  if (config_.incoming_device == "off") {
    base::CallLog(call->call_id()).info("service: incoming call from {} declined (incoming_device = off)", from);
    return invite.respond(480, "Temporarily Unavailable");
  }
  if (config_.incoming_device.empty() && chooser_->can_ask()) return ask_for_incoming(call, std::move(invite));
  std::string dev = config_.incoming_device.empty() ? devices_->default_device() : config_.incoming_device;
  if (dev.empty()) {
    base::CallLog(call->call_id())
        .info("service: incoming call from {} declined: no incoming_device, default_device or chooser page", from);
    return invite.respond(480, "Temporarily Unavailable");
  }
  ring_device(dev, call, std::move(invite));
}

// Refuses what may not ring the user's device; false when it answered.
bool ClientService::admit_incoming(sip::IncomingRequest& request) {
  const sip::Message& m = request.message();
  if (!m.body().empty() && m.content_type() != "application/sdp") {
    request.respond(415, "Unsupported Media Type", {{"Accept", "application/sdp"}});
    return false;
  }
  if (config_.incoming_from.empty()) return true;
  auto source = m.source();
  for (auto& network : config_.incoming_from)
    if (source && network.contains(source->host)) return true;
  base::CallLog(m.call_id())
      .warn("service: incoming call from {} refused: its source {} is not in incoming_from", m.from_uri(),
            source ? source->str() : "(unknown)");
  request.respond(403, "Forbidden");
  return false;
}

void ClientService::ask_for_incoming(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) {
  // Whichever comes first answers the INVITE: the user's decision or the caller giving up.
  struct Waiting {
    std::shared_ptr<sip::Call> caller;
    std::optional<sip::IncomingRequest> invite;
    DeviceChooser::Id question = 0;
    std::unique_ptr<CallerWatch> watch;
  };
  auto waiting = std::make_shared<Waiting>();
  waiting->caller = call;
  waiting->invite.emplace(std::move(invite));
  std::string from = waiting->invite->message().from_uri();
  auto decided = [this, waiting](const DeviceChooser::Decision& d) {
    waiting->caller->set_handler(nullptr);
    if (!waiting->invite) return;
    auto request = std::move(*waiting->invite);
    waiting->invite.reset();
    if (d.outcome == DeviceChooser::Outcome::Chosen) return ring_device(d.device, waiting->caller, std::move(request));
    base::CallLog(waiting->caller->call_id())
        .info("service: incoming call from {} not answered: {}", waiting->caller->remote_uri(), d.reason);
    auto [status, phrase] = refusal(d);
    request.respond(status, phrase);
  };
  waiting->watch = std::make_unique<CallerWatch>(loop_, [this, weak = std::weak_ptr<Waiting>(waiting)] {
    if (auto w = weak.lock()) chooser_->cancel(w->question);
  });
  call->set_handler(waiting->watch.get());
  waiting->question = chooser_->ask({from, "", true}, decided);
  // Asked (not decided at once): the caller hears the device ring meanwhile.
  if (waiting->question && waiting->invite) waiting->invite->respond(180, "Ringing");
}

void ClientService::ring_device(const std::string& dev, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite) {
  std::shared_ptr<Device> adhoc;
  Device* device = devices_->resolve(dev, adhoc);
  if (!device || device->dials_itself()) {
    base::CallLog(invite.message().call_id())
        .info("service: incoming call from {} declined: device {} {}", invite.message().from_uri(), dev,
              device ? "cannot be rung" : "unknown");
    return invite.respond(480, "Temporarily Unavailable");
  }
  auto pending = std::make_shared<std::pair<std::shared_ptr<sip::Call>, sip::IncomingRequest>>(std::move(caller),
                                                                                              std::move(invite));
  device->prepare(*device_runtime_, [this, device, adhoc, pending](int status, const std::string& reason) {
    if (!ua_ || device_runtime_->stopped()) return;
    if (status >= 300) {
      base::CallLog(pending->first->call_id())
          .warn("service: incoming call: device {} not ready ({} {})", device->id(), status, reason);
      return pending->second.respond(480, "Temporarily Unavailable");
    }
    if (pending->first->terminated()) return;  // the caller gave up meanwhile
    answer_incoming(*device, pending->first, std::move(pending->second));
  });
}

void ClientService::answer_incoming(Device& device, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite) {
  std::string id = calls_->next_id();
  const sip::Message& m = invite.message();
  std::string from = m.from_uri(), offer(m.body());
  sip::CallOptions options;
  // The device shows who is calling, not the service (the display name without quotes or escapes).
  std::string display;
  for (char c : m.from_display())
    if (static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\') display += c;
  options.from = display.empty() ? "<" + from + ">" : "\"" + display + "\" <" + from + ">";
  auto call = std::make_unique<ThirdPartyCall>(loop_, leg_dialer(id), *calls_, id, device.id(), device.sip_uri(), from,
                                               options, std::chrono::seconds(config_.keepalive_s),
                                               ThirdPartyCall::Direction::Incoming);
  auto caller_leg = std::make_shared<SipLeg>(id, "target", tunnel_.get());
  caller_leg->take(std::move(caller));
  auto* raw = call.get();
  raw->log().info("service: incoming call {} from {} rings {}", id, from, device.id());
  calls_->add(std::move(call), CallState::Incoming);
  raw->answer(caller_leg, std::make_unique<SipPendingRequest>(std::move(invite)), offer,
              [id, raw](int status, const std::string& reason) {  // raw: the call reports before it is gone
                if (status >= 300) raw->log().info("service: incoming call {} not connected ({} {})", id, status, reason);
              });
}

}  // namespace confab::service
