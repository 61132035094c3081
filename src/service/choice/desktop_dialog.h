// Asks the user to pick a device in a desktop dialog (zenity) when a display
// is present: DeviceChooser's way when no chooser page is open. zenity runs as
// a base::ChildProcess; its answer is read from its pipes on the SIP thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/child_process.h"
#include "sip/event_loop.h"

namespace confab::service {

class DesktopDialog {
 public:
  // True when $DISPLAY or $WAYLAND_DISPLAY is set and zenity is on $PATH.
  static bool available();

  explicit DesktopDialog(sip::EventLoop& loop);
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
  // Shows the list (device id, label); `answered` runs later, on the SIP thread.
  // Returns the dialog's id, or 0 if none could be opened (kMaxOpen open, zenity not startable).
  Id ask(const Question& question, const std::vector<std::pair<std::string, std::string>>& devices,
         std::function<void(Answer)> answered);
  // Closes a dialog still open; its `answered` does not run.
  void close(Id id);

 private:
  struct Open;
  void read_from(Id id, bool from_stdout);
  void finish(Id id);

  sip::EventLoop& loop_;
  std::map<Id, std::unique_ptr<Open>> open_;
  Id next_id_ = 1;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted work after our end is dropped
};

}  // namespace confab::service
