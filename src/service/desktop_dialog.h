// Asks the user to pick a device in a desktop dialog (zenity) when a display
// is present: the device chooser for ExternalJoin and incoming calls when no
// chooser page is open.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <utility>
#include <vector>

#include "sip/event_loop.h"

namespace confab::service {

class DesktopDialog {
 public:
  // True when $DISPLAY or $WAYLAND_DISPLAY is set and zenity is on $PATH.
  static bool available();

  explicit DesktopDialog(sip::EventLoop& loop) : loop_(loop) {}
  ~DesktopDialog();  // closes the dialogs still open
  DesktopDialog(const DesktopDialog&) = delete;
  DesktopDialog& operator=(const DesktopDialog&) = delete;

  struct Question {
    std::string text;                  // "Join sip:room1@example.com on which device?"
    std::string ok_label = "OK";
    std::string cancel_label = "Cancel";
    int timeout_s = 120;
  };
  struct Answer {
    std::string device;  // the id picked; "" when declined, timed out or failed
    bool timed_out = false;
    bool failed = false;  // no dialog could be shown (e.g. a display that is gone): ask otherwise
  };
  // At most this many dialogs at once (a flood of calls must not flood the screen).
  static constexpr size_t kMaxOpen = 4;
  using Id = uint64_t;
  // Shows the list (device id, label); `answered` runs on the SIP thread.
  // Returns the dialog's id, or 0 if none could be opened (kMaxOpen open, zenity not startable).
  Id ask(const Question& question, const std::vector<std::pair<std::string, std::string>>& devices,
         std::function<void(Answer)> answered);
  // Closes a dialog still open; its `answered` does not run.
  void close(Id id);

 private:
  struct Open {
    pid_t pid = -1;
    bool reaped = false;  // under mutex_: close() kills pid only before the reader has reaped it
    std::thread reader;
  };
  void end(std::map<Id, std::unique_ptr<Open>>::iterator it);  // kills if needed, joins, forgets

  sip::EventLoop& loop_;
  std::mutex mutex_;
  std::map<Id, std::unique_ptr<Open>> open_;
  Id next_id_ = 1;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // answers posted after our end are dropped
};

}  // namespace confab::service
