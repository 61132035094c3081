// Asks the user to pick a device in a desktop dialog (zenity) when a display
// is present: the device chooser for ExternalJoin and incoming calls when no
// chooser page is open.
#pragma once

#include <functional>
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
  ~DesktopDialog();  // closes a dialog still open
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
  // Shows the list (device id, label); `answered` runs on the SIP thread.
  // One dialog at a time: false if one is open.
  bool ask(const Question& question, const std::vector<std::pair<std::string, std::string>>& devices,
           std::function<void(Answer)> answered);
  // Closes the open dialog, if any; its `answered` does not run.
  void close();

 private:
  sip::EventLoop& loop_;
  std::thread reader_;
  pid_t pid_ = -1;
  std::mutex reap_mutex_;  // close() kills pid_ only while the reader has not reaped it
  bool reaped_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // a new one per close(): drops the old answer
};

}  // namespace confab::service
