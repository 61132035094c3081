// An IP network in CIDR notation, for address-based policies ("which hosts may
// call this service"): "10.0.0.0/8", "192.0.2.7" (/32), "fd00::/8", "::1" (/128).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::base {

class IpNetwork {
 public:
  // nullopt for anything else than an IPv4/IPv6 address with an optional /prefix in range.
  static std::optional<IpNetwork> parse(std::string_view text);
  // Whether a textual address (as inet_ntop writes it) is inside; an IPv4-mapped IPv6
  // address (::ffff:192.0.2.7) counts as IPv4. False for anything unparsable.
  bool contains(std::string_view address) const;
  std::string str() const;

 private:
  bool v6_ = false;
  std::array<uint8_t, 16> bytes_{};
  int prefix_ = 0;
};

}  // namespace confab::base
