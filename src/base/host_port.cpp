#include "base/host_port.h"

#include <charconv>
#include <stdexcept>

namespace confab::base {

std::string HostPort::str() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::optional<HostPort> split_host_port(std::string_view text, bool port_optional) {
  std::string_view host = text, port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      has_port = true;
    }
    if (host.find(':') == std::string_view::npos) return std::nullopt;  // brackets are for IPv6 only
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) != std::string_view::npos) return std::nullopt;  // IPv6 needs brackets
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty() || host.find_first_of(" \t[]/@") != std::string_view::npos) return std::nullopt;
  HostPort out{std::string(host), 0};
  if (has_port) {
    auto p = parse_port(port);
    if (!p) return std::nullopt;
    out.port = *p;
  } else if (!port_optional) {
    return std::nullopt;
  }
  return out;
}

HostPort parse_host_port(std::string_view text, std::string_view what) {
  if (auto hp = split_host_port(text)) return *hp;
  throw std::invalid_argument(std::string(what) + " must be HOST:PORT with a port from 0 to 65535 (e.g. 127.0.0.1:5065, "
                              "[::1]:5065), not '" + std::string(text) + "'");
}

std::optional<std::pair<uint16_t, uint16_t>> split_port_range(std::string_view text) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto low = parse_port(text.substr(0, dash)), high = parse_port(text.substr(dash + 1));
  if (!low || !high || *low == 0 || *low > *high) return std::nullopt;
  return std::pair{*low, *high};
}

std::pair<uint16_t, uint16_t> parse_port_range(std::string_view text, std::string_view what) {
  if (auto r = split_port_range(text)) return *r;
  throw std::invalid_argument(std::string(what) + " must be LOW-HIGH, two ports with LOW <= HIGH (e.g. 20000-29999), not '" +
                              std::string(text) + "'");
}

}  // namespace confab::base
