#include "base/ip_network.h"

#include <arpa/inet.h>

#include <charconv>

namespace confab::base {

namespace {

// Parses an address into 16 bytes (IPv4 in the first 4); nullopt if neither family.
std::optional<std::pair<bool, std::array<uint8_t, 16>>> parse_address(std::string_view text) {
  std::string s(text);
  std::array<uint8_t, 16> b{};
  if (inet_pton(AF_INET, s.c_str(), b.data()) == 1) return std::make_pair(false, b);
  if (inet_pton(AF_INET6, s.c_str(), b.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(b.begin(), b.begin() + 12, kMapped)) {  // ::ffff:a.b.c.d is IPv4
    std::array<uint8_t, 16> v4{};
    std::copy(b.begin() + 12, b.end(), v4.begin());
    return std::make_pair(false, v4);
  }
  return std::make_pair(true, b);
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  auto slash = text.find('/');
  auto address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  IpNetwork n;
  n.v6_ = address->first;
  n.bytes_ = address->second;
  int max = n.v6_ ? 128 : 32;
  n.prefix_ = max;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n.prefix_);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || n.prefix_ < 0 || n.prefix_ > max)
      return std::nullopt;
  }
  // Host bits are cleared: 10.1.2.3/8 is 10.0.0.0/8.
  for (int bit = n.prefix_; bit < max; ++bit) n.bytes_[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  return n;
}

bool IpNetwork::contains(std::string_view text) const {
  auto address = parse_address(text);
  if (!address || address->first != v6_) return false;
  for (int bit = 0; bit < prefix_; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((address->second[bit / 8] & mask) != (bytes_[bit / 8] & mask)) return false;
  }
  return true;
}

std::string IpNetwork::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix_);
}

}  // namespace confab::base
