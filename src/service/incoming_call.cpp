// Calls to the user's identity: ClientService's side of incoming calls.
#include <spdlog/spdlog.h>

#include <optional>

#include "service/client_service.h"
#include "service/desktop_dialog.h"
#include "service/device_runtime.h"
#include "service/third_party_call.h"
#include "service/tunnel.h"

namespace confab::service {

namespace {

// The caller of an incoming call while the user picks a device: if it gives up
// (CANCEL), `gone` runs (posted: the handler is not destroyed inside its own callback).
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

// An incoming call while the user picks a device.
struct WaitingCaller {
  std::shared_ptr<sip::Call> caller;
  std::optional<sip::IncomingRequest> invite;  // answered once
  std::shared_ptr<CallerWatch> watch;          // the desktop dialog's (the chooser page's is in its PendingChoice)
};

}  // namespace

// A call to the user's identity rings a device as a loop-mode call, so
// SameDeviceJoin, Hangup and the events work on it too. Which device:
// incoming_device if set; else the user's pick on the chooser page if one is
// open, or in a desktop dialog when a display is present (the caller hears it
// ring meanwhile); else default_device.
void ClientService::on_incoming_call(const std::shared_ptr<sip::Call>& call, sip::IncomingRequest invite) {
  const sip::Message& m = invite.message();
  std::string from = m.from_uri();
  if (!m.body().empty() && m.content_type() != "application/sdp")
    return invite.respond(415, "Unsupported Media Type", {{"Accept", "application/sdp"}});
  if (!config_.incoming_from.empty()) {
    auto source = m.source();
    bool allowed = false;
    for (auto& network : config_.incoming_from) allowed = allowed || (source && network.contains(source->host));
    if (!allowed) {
      spdlog::warn("service: incoming call from {} refused: its source {} is not in incoming_from", from,
                   source ? source->str() : "(unknown)");
      return invite.respond(403, "Forbidden");
    }
  }
  if (config_.incoming_device == "off") {
    spdlog::info("service: incoming call from {} declined (incoming_device = off)", from);
    return invite.respond(480, "Temporarily Unavailable");
  }
  if (config_.incoming_device.empty() && !devices_.empty() && (has_subscriber("choices") || DesktopDialog::available())) {
    auto waiting = std::make_shared<WaitingCaller>(WaitingCaller{call, std::move(invite), nullptr});
    // The user's answer, or the caller giving up: whichever comes first answers the INVITE.
    auto answer = [this](WaitingCaller& w, const std::string& device, int status, const std::string& reason) {
      w.caller->set_handler(nullptr);
      if (!w.invite) return;
      auto request = std::move(*w.invite);
      w.invite.reset();
      w.watch.reset();
      if (!device.empty()) return ring_device(device, w.caller, std::move(request));
      spdlog::info("service: incoming call from {} not answered: {}", w.caller->remote_uri(), reason);
      if (status == 603) return request.respond(603, "Decline");
      request.respond(status == 487 ? 487 : 480, status == 487 ? "Request Terminated" : "Temporarily Unavailable");
    };
    Decision settle = [waiting, answer](const std::string& device, int status, const std::string& reason) {
      answer(*waiting, device, status, reason);
    };
    if (has_subscriber("choices")) {  // a chooser page is open: ask there
      auto id = std::make_shared<std::string>();
      PendingChoice choice;
      choice.target = from;
      choice.incoming = true;
      choice.decide = settle;
      choice.caller_watch = std::make_shared<CallerWatch>(loop_, [this, id] {
        auto it = choices_.find(*id);
        if (it == choices_.end()) return;
        auto decide = std::move(it->second.decide);
        finish_choice(*id, "cancelled");
        decide("", 487, "the caller hung up");
      });
      call->set_handler(choice.caller_watch.get());
      waiting->invite->respond(180, "Ringing");
      *id = ask_user(std::move(choice));
      spdlog::info("service: incoming call from {} waits for the user's choice {}", from, *id);
      return;
    }
    DesktopDialog::Question question{"Incoming call from " + from + ": answer on which device?", "Answer", "Decline",
                                     static_cast<int>(config_.choice_timeout_s)};
    auto dialog = dialog_.ask(question, device_list(), [this, settle](const DesktopDialog::Answer& answer) {
      if (answer.failed)  // as without a display
        return config_.default_device.empty() ? settle("", 480, "the desktop dialog failed and no default_device")
                                              : settle(config_.default_device, 200, "");
      if (answer.device.empty())
        return settle("", answer.timed_out ? 480 : 603, answer.timed_out ? "no answer in time" : "declined");
      if (!devices_.count(answer.device)) return settle("", 480, "the dialog returned an unknown device");
      settle(answer.device, 200, "");
    });
    if (dialog) {
      waiting->watch = std::make_shared<CallerWatch>(loop_, [this, answer, dialog,
                                                             weak = std::weak_ptr<WaitingCaller>(waiting)] {
        dialog_.close(dialog);
        if (auto w = weak.lock()) answer(*w, "", 487, "the caller hung up");
      });
      call->set_handler(waiting->watch.get());
      waiting->invite->respond(180, "Ringing");
      spdlog::info("service: incoming call from {} waits for the user's choice in a desktop dialog", from);
      return;
    }
    invite = std::move(*waiting->invite);  // no dialog (too many open, zenity not startable): as without a display
  }
  std::string dev = config_.incoming_device.empty() ? config_.default_device : config_.incoming_device;
  if (dev.empty()) {
    spdlog::info("service: incoming call from {} declined: no incoming_device, default_device or chooser page", from);
    return invite.respond(480, "Temporarily Unavailable");
  }
  ring_device(dev, call, std::move(invite));
}

void ClientService::ring_device(const std::string& dev, std::shared_ptr<sip::Call> caller, sip::IncomingRequest invite) {
  std::shared_ptr<Device> adhoc;
  Device* device = resolve_device(dev, adhoc);
  if (!device || device->dials_itself()) {
    spdlog::info("service: incoming call from {} declined: device {} {}", invite.message().from_uri(), dev,
                 device ? "cannot be rung" : "unknown");
    return invite.respond(480, "Temporarily Unavailable");
  }
  auto pending = std::make_shared<std::pair<std::shared_ptr<sip::Call>, sip::IncomingRequest>>(std::move(caller),
                                                                                              std::move(invite));
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
