// What a reload of a part's config found (`confab ctl PART reload`, SIGHUP):
// the settings it applied live and those that changed but need a restart,
// said the same way by every part.
#pragma once

#include <string>
#include <vector>

namespace confab::control {

class ReloadReport {
 public:
  void applied_if(bool differs, const char* setting) {
    if (differs) applied_.push_back(setting);
  }
  void restart_if(bool differs, const char* setting) {
    if (differs) restart_.push_back(setting);
  }
  // "applied: a, b; changed but needs a restart: c", or
  // "nothing that can change live has changed" (and the restart part, if any).
  std::string text() const;

 private:
  std::vector<std::string> applied_, restart_;
};

}  // namespace confab::control
