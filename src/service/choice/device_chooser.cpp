#include "service/choice/device_chooser.h"

#include <spdlog/spdlog.h>

namespace confab::service {

namespace {

int status_of(DeviceChooser::Outcome outcome) {
  using O = DeviceChooser::Outcome;
  switch (outcome) {
    case O::Chosen: return 200;
    case O::Declined: return 603;
    case O::TimedOut: return 408;
    case O::Cancelled: return 487;
    case O::NoDevice: return 409;
    case O::ShuttingDown: return 503;
  }
  return 500;
}

// "k3": how the page names question 3.
std::string choice_name(DeviceChooser::Id id) { return "k" + std::to_string(id); }

}  // namespace

DeviceChooser::Decision DeviceChooser::decision(Outcome outcome, std::string reason, std::string device) {
  return Decision{outcome, std::move(device), status_of(outcome), std::move(reason)};
}

DeviceChooser::DeviceChooser(sip::EventLoop& loop, const DeviceRegistry& devices, EventHub& events,
                             std::chrono::seconds timeout)
    : loop_(loop), devices_(devices), events_(events), timeout_(timeout), dialog_(loop) {}

DeviceChooser::~DeviceChooser() { shutdown(); }

bool DeviceChooser::can_ask() const {
  return !devices_.empty() && (events_.has_subscriber("choices") || DesktopDialog::available());
}

DeviceChooser::Id DeviceChooser::ask(const Question& question, Decided decided) {
  if (!devices_.empty() && events_.has_subscriber("choices")) return ask_on_page(question, std::move(decided));
  if (!devices_.empty() && DesktopDialog::available()) {
    if (Id id = ask_in_dialog(question, decided)) return id;
  }
  fall_back(decided, "no device chosen: open the device chooser (confab chooser) or set default_device");
  return 0;
}

void DeviceChooser::fall_back(const Decided& decided, const std::string& why_not) const {
  if (devices_.default_device().empty()) return decided(decision(Outcome::NoDevice, why_not));
  decided(decision(Outcome::Chosen, "the default device", devices_.default_device()));
}

DeviceChooser::Id DeviceChooser::ask_on_page(const Question& question, Decided decided) {
  Id id = next_id_++;
  auto& p = pending_[id];
  p.question = question;
  p.decided = std::move(decided);
  p.timeout = std::make_unique<sip::Timer>(loop_);
  p.timeout->once(timeout_, [this, id] {
    settle(id, decision(Outcome::TimedOut, "no device chosen in time"), "timeout");
  });
  events_.publish("choices", describe(id, question).add(devices_.describe()));
  spdlog::info("device chooser: {} {} waits for the user's choice {}", question.incoming ? "call from" : "join",
               question.target, choice_name(id));
  return id;
}

DeviceChooser::Id DeviceChooser::ask_in_dialog(const Question& question, Decided decided) {
  Id id = next_id_;
  DesktopDialog::Question q;
  q.text = question.incoming ? "Incoming call from " + question.target + ": answer on which device?"
                             : "Join " + question.target + " on which device?";
  q.ok_label = question.incoming ? "Answer" : "Join";
  q.cancel_label = question.incoming ? "Decline" : "Cancel";
  q.timeout_s = static_cast<int>(timeout_.count());
  auto dialog = dialog_.ask(q, devices_.labels(), [this, id](const DesktopDialog::Answer& answer) {
    if (!pending_.count(id)) return;
    if (answer.failed || (!answer.device.empty() && !devices_.has(answer.device))) {
      auto decided = std::move(pending_[id].decided);
      pending_.erase(id);
      return fall_back(decided, "the desktop dialog could not be shown and there is no default_device");
    }
    if (answer.timed_out) return settle(id, decision(Outcome::TimedOut, "no device chosen in time"), "");
    if (answer.device.empty()) return settle(id, decision(Outcome::Declined, "the user declined"), "");
    settle(id, decision(Outcome::Chosen, "chosen in the desktop dialog", answer.device), "");
  });
  if (!dialog) return 0;  // too many open, or zenity cannot start: as without a display
  ++next_id_;
  pending_[id] = Pending{question, std::move(decided), nullptr, dialog};
  spdlog::info("device chooser: {} {} waits for the user's choice in a desktop dialog",
               question.incoming ? "call from" : "join", question.target);
  return id;
}

void DeviceChooser::settle(Id id, const Decision& decision, const std::string& page_outcome) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  auto decided = std::move(it->second.decided);
  bool on_page = it->second.dialog == 0;
  if (!on_page) dialog_.close(it->second.dialog);
  pending_.erase(it);
  if (on_page)
    events_.publish("choices", api::ApiMessage("ChoiceDone").set("choice", choice_name(id)).set("outcome", page_outcome));
  decided(decision);
}

void DeviceChooser::cancel(Id id) { settle(id, decision(Outcome::Cancelled, "the caller hung up"), "cancelled"); }

void DeviceChooser::choose(const std::string& choice, const std::string& device, const Reply& reply) {
  Id id = 0;
  if (choice.size() > 1 && choice[0] == 'k') id = std::strtoull(choice.c_str() + 1, nullptr, 10);
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.dialog != 0 || choice != choice_name(id))
    return reply.error(404, "no pending choice " + choice);
  if (!device.empty() && !devices_.known(device)) return reply.error(404, "unknown device '" + device + "'");
  if (device.empty())
    settle(id, decision(Outcome::Declined, "the user declined"), "declined");
  else
    settle(id, decision(Outcome::Chosen, "chosen", device), "chosen");
  reply.ok(device.empty() ? "declined" : "chosen", {{"choice", choice}});
}

std::vector<api::ApiMessage> DeviceChooser::pending() const {
  std::vector<api::ApiMessage> out;
  for (auto& [id, p] : pending_)
    if (p.dialog == 0) out.push_back(describe(id, p.question));
  return out;
}

api::ApiMessage DeviceChooser::describe(Id id, const Question& question) const {
  api::ApiMessage m("ChoiceRequest");
  m.set("choice", choice_name(id)).set("target", question.target);
  if (question.incoming)
    m.set("incoming", "true");
  else
    m.set("from", question.asked_by);
  return m;
}

void DeviceChooser::shutdown() {
  while (!pending_.empty())
    settle(pending_.begin()->first, decision(Outcome::ShuttingDown, "the service is shutting down"), "cancelled");
}

}  // namespace confab::service
