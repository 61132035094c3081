#include "base/spelling.h"

#include <algorithm>
#include <utility>

namespace confab::base {

size_t edit_distance(std::string_view a, std::string_view b) {
  // Rows i-2, i-1 and i of the distance matrix (optimal string alignment).
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], before[j - 2] + 1);
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[b.size()];
}

std::optional<std::string> nearest_name(std::string_view typed, const std::vector<std::string>& known) {
  if (typed.empty()) return std::nullopt;
  const std::string* best = nullptr;
  size_t best_distance = 0;
  for (const auto& name : known) {
    size_t d = edit_distance(typed, name);
    if (!best || d < best_distance) {
      best = &name;
      best_distance = d;
    }
  }
  if (!best) return std::nullopt;
  size_t allowed = std::clamp<size_t>(typed.size() / 3, 1, 3);
  if (best_distance <= allowed) return *best;
  if (typed.size() < 4) return std::nullopt;
  for (const auto& name : known)  // "--max-part" for "--max-participants"
    if (name.size() > typed.size() && name.compare(0, typed.size(), typed) == 0) return name;
  return std::nullopt;
}

}  // namespace confab::base
