// Asks the user which device should carry a call, the same way for an
// ExternalJoin and for an incoming call: on the chooser page when one is open
// (an API client subscribed to "choices"), else in a desktop dialog when a
// display is present, else the default device. One set of outcomes, each with
// one status code.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/api_message.h"
#include "service/api/event_hub.h"
#include "service/api/reply.h"
#include "service/choice/desktop_dialog.h"
#include "service/devices/device_registry.h"
#include "sip/event_loop.h"

namespace confab::service {

class DeviceChooser {
 public:
  enum class Outcome {
    Chosen,        // 200: `device` carries the call (the user's pick, or the default device)
    Declined,      // 603: the user said no
    TimedOut,      // 408: no answer within the choice timeout
    Cancelled,     // 487: the question went away (the caller hung up)
    NoDevice,      // 409: nobody to ask and no default device
    ShuttingDown,  // 503
  };
  struct Decision {
    Outcome outcome = Outcome::NoDevice;
    std::string device;  // Chosen: a device id or a SIP URI
    int status = 409;
    std::string reason;
  };
  using Decided = std::function<void(const Decision& decision)>;
  struct Question {
    std::string target;    // what to join, or who calls
    std::string asked_by;  // the API client asking; "" for an incoming call
    bool incoming = false;
  };
  using Id = uint64_t;

  DeviceChooser(sip::EventLoop& loop, const DeviceRegistry& devices, EventHub& events, std::chrono::seconds timeout);
  ~DeviceChooser();
  DeviceChooser(const DeviceChooser&) = delete;
  DeviceChooser& operator=(const DeviceChooser&) = delete;

  // Whether a question would reach the user now (a device to choose from,
  // and a chooser page open or a display to show a dialog on).
  bool can_ask() const;
  // Asks; `decided` runs once, on the SIP thread, possibly before ask()
  // returns (then the id is 0): the default device when nobody can be asked.
  Id ask(const Question& question, Decided decided);
  // The question no longer matters: it leaves the page or its dialog closes;
  // `decided` gets Cancelled.
  void cancel(Id id);
  // The user's answer on the chooser page (<Choose>): a device, or "" to decline.
  void choose(const std::string& choice, const std::string& device, const Reply& reply);
  // The questions waiting on the chooser page, as <ChoiceRequest> elements.
  std::vector<api::ApiMessage> pending() const;
  // Every open question: ShuttingDown.
  void shutdown();

  static Decision decision(Outcome outcome, std::string reason, std::string device = "");

 private:
  struct Pending {
    Question question;
    Decided decided;
    std::unique_ptr<sip::Timer> timeout;  // on the page
    DesktopDialog::Id dialog = 0;         // in a dialog
  };
  Id ask_on_page(const Question& question, Decided decided);
  Id ask_in_dialog(const Question& question, Decided decided);
  // Nobody to ask (or the dialog failed): the default device, if any.
  void fall_back(const Decided& decided, const std::string& why_not) const;
  // Ends question `id` with `decision`; `page_outcome` for the page's <ChoiceDone>.
  void settle(Id id, const Decision& decision, const std::string& page_outcome);
  api::ApiMessage describe(Id id, const Question& question) const;

  sip::EventLoop& loop_;
  const DeviceRegistry& devices_;
  EventHub& events_;
  std::chrono::seconds timeout_;
  DesktopDialog dialog_;
  std::map<Id, Pending> pending_;
  Id next_id_ = 1;
};

}  // namespace confab::service
