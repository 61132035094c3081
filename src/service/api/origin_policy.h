// Which web origins may drive the service through the WebSocket API: the ones
// the user approved (kept in a file, one origin per line), and the ones that
// tried and wait for the user's decision. Used from the HTTP thread (checks)
// and the SIP thread (commands), hence the lock.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace confab::service {

class OriginPolicy {
 public:
  // `file`: where approvals persist ("" keeps them in memory only).
  explicit OriginPolicy(std::string file);
  bool approved(const std::string& origin) const;
  // Notes a refused origin; true the first time (so the user is asked once).
  bool request(const std::string& origin);
  // Approves (or revokes) an origin; false if it is not a plausible origin.
  bool approve(const std::string& origin, bool yes = true);
  std::vector<std::string> approved_list() const;
  std::vector<std::string> pending_list() const;
  static constexpr size_t kMaxPending = 32;  // a flood of made-up origins cannot grow memory

 private:
  void save() const;
  std::string file_;
  mutable std::mutex mutex_;
  std::set<std::string> approved_, pending_;
};

// "scheme://host[:port]" with a web scheme: what browsers send as Origin.
bool plausible_origin(const std::string& origin);

}  // namespace confab::service
