// HOST:PORT as settings and options write it ("127.0.0.1:5065", "[::1]:5066",
// "pbx.example.com:5060"): one reader for every part, with an error that says
// which setting is wrong and how to write it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace confab::base {

struct HostPort {
  std::string host;  // a name, an IPv4 address, or an IPv6 address without brackets
  uint16_t port = 0;
  std::string str() const;  // "127.0.0.1:5065", "[::1]:5065"
};

// "HOST:PORT" or "[IPv6]:PORT"; with `port_optional`, "HOST" alone too (port 0).
// nullopt for anything else: no host, a port that is not a whole number from 0
// to 65535, a lone IPv6 address without brackets, stray brackets.
std::optional<HostPort> split_host_port(std::string_view text, bool port_optional = false);

// As split_host_port with the port required; throws std::invalid_argument
// naming `what` (the setting) and the text, e.g. "api_tcp must be HOST:PORT
// (e.g. 127.0.0.1:5065), not '127.0.0.1:x'". Port 0 means any free port.
HostPort parse_host_port(std::string_view text, std::string_view what);

// A whole decimal number from 0 to 65535, nothing else.
std::optional<uint16_t> parse_port(std::string_view text);

// "LOW-HIGH", two ports from 1 to 65535 with LOW <= HIGH (RTP port ranges).
std::optional<std::pair<uint16_t, uint16_t>> split_port_range(std::string_view text);
// As split_port_range; throws std::invalid_argument naming `what` and the text.
std::pair<uint16_t, uint16_t> parse_port_range(std::string_view text, std::string_view what);

}  // namespace confab::base
