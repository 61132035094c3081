#include "control/reload_report.h"

namespace confab::control {

namespace {

std::string joined(const std::vector<std::string>& settings) {
  std::string s;
  for (auto& x : settings) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string ReloadReport::text() const {
  std::string said = applied_.empty() ? "nothing that can change live has changed" : "applied: " + joined(applied_);
  if (!restart_.empty()) said += "; changed but needs a restart: " + joined(restart_);
  return said;
}

}  // namespace confab::control
