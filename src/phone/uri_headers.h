// The header fields a SIP URI carries in its headers part (RFC 3261 section
// 19.1.1), as in a Refer-To of an attended transfer:
// "sip:b@h?Replaces=a%3Bto-tag%3D1" dials sip:b@h with "Replaces: a;to-tag=1".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.h"

namespace confab::phone {

struct UriWithHeaders {
  std::string uri;                       // the URI without its headers part
  std::vector<sip::HeaderField> headers;  // decoded, in order
};

// Splits `text` at its first '?': name=value pairs joined by '&', %-escapes
// decoded (Boost.URL). A pair without '=' and a "body" one are dropped.
// nullopt when an escape is malformed ("%zz", a '%' without two hex digits) or
// decodes to a NUL: no such URI can be dialled. Never throws.
std::optional<UriWithHeaders> split_uri_headers(std::string_view text);

}  // namespace confab::phone
