// Why a server could not listen on an address, in words an operator can act on
// ("address already in use: ...", "not an address of this host: ..."), for
// every part that binds SIP, HTTP or WebSocket listeners.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::base {

// The reason for a failed bind()/listen() with `error_number` (an errno value),
// with what to check: EADDRINUSE, EADDRNOTAVAIL, EACCES (ports below 1024) get
// their own advice, anything else strerror's text.
std::string bind_error_reason(int error_number, uint16_t port);

// For libraries that do not say why they could not listen (Sofia-SIP): binds a
// plain socket of `transport` ("udp", or "tcp" with SO_REUSEADDR as servers
// set it) to host:port, closes it again and returns the reason it failed, or
// nullopt if it bound (then the library failed for a reason of its own). A
// host that is not an IP address is resolved; one that does not resolve is the
// reason then.
std::optional<std::string> bind_failure(std::string_view transport, const std::string& host, uint16_t port);

}  // namespace confab::base
