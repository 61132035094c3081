// Asks the user to pick a device in a desktop dialog (zenity) when a display
// is present: the device chooser for ExternalJoin when no chooser page is open.
#pragma once

#include <functional>
#include <memory>
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

  // Shows the list (device id, label) for joining `target`; `chosen` runs on
  // the SIP thread with the id picked, or "" if the user cancelled or the
  // dialog failed. One dialog at a time: false if one is open.
  bool ask(const std::string& target, const std::vector<std::pair<std::string, std::string>>& devices,
           std::function<void(std::string)> chosen);

 private:
  sip::EventLoop& loop_;
  std::thread reader_;
  pid_t pid_ = -1;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace confab::service
