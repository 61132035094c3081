// RFC 3261 section 16.7 step 6: which final response a forking proxy sends
// upstream when no branch answered 2xx.
#pragma once

#include <cstddef>
#include <vector>

namespace confab::proxy {

// Index of the best of `statuses` (all final, >= 300): any 6xx wins; otherwise
// the lowest class, preferring 401, 407, 415, 420 and 484 within 4xx.
// Precondition: not empty.
size_t select_best_response(const std::vector<int>& statuses);

// The status the proxy sends for a chosen downstream status: 503 becomes 500
// (a downstream overload must not make upstream retry elsewhere, RFC 3261 16.7).
int upstream_status(int chosen);

}  // namespace confab::proxy
