#include "proxy/response_selection.h"

namespace confab::proxy {

namespace {

bool preferred_4xx(int s) { return s == 401 || s == 407 || s == 415 || s == 420 || s == 484; }

// Lower rank is better.
int rank(int s) {
  if (s >= 600) return 0;
  int cls = s / 100;  // 3, 4, 5
  int r = cls * 10;
  if (cls == 4 && !preferred_4xx(s)) r += 1;
  if (s == 408) r += 2;  // a timeout says the least
  return r;
}

}  // namespace

size_t select_best_response(const std::vector<int>& statuses) {
  size_t best = 0;
  for (size_t i = 1; i < statuses.size(); ++i)
    if (rank(statuses[i]) < rank(statuses[best])) best = i;
  return best;
}

int upstream_status(int chosen) { return chosen == 503 ? 500 : chosen; }

}  // namespace confab::proxy
