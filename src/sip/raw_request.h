// A SIP request written by hand as text (the service's <Tunnel> API, `confab
// tunnel FILE`, scripts): request line, header fields, blank line, body, with
// CRLF or bare LF line ends (XML text arrives with LF only). It is parsed into
// a RequestSpec-shaped value for the user agent, which writes the fields that
// belong to the stack itself (Via, Call-ID, CSeq, Content-Length) anew.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/message.h"

namespace confab::sip {

struct RawRequest {
  std::string method;       // as written (a token; SIP method names are case-sensitive)
  std::string request_uri;  // a sip:, sips: or tel: URI
  // Every other header field in order, names as written, folded lines joined;
  // without Content-Type (below) and without the fields listed in `dropped`.
  std::vector<HeaderField> headers;
  std::string content_type;  // "" when there is no body
  std::string body;
  // Canonical names of fields found in the text that the stack writes itself
  // and that are therefore left out: Via, Call-ID, CSeq, Content-Length.
  std::vector<std::string> dropped;
};

struct RawRequestResult {
  std::optional<RawRequest> request;
  int code = 0;        // on failure: 400 (malformed) or 413 (too large)
  std::string error;   // on failure: what is wrong, naming the line or field
};

inline constexpr size_t kMaxRawRequestBytes = 64 * 1024;  // a UDP datagram must hold it
inline constexpr size_t kMaxRawRequestHeaders = 100;

// Never throws; every failure is a result with a reason a user can act on.
RawRequestResult parse_raw_request(std::string_view text, size_t max_bytes = kMaxRawRequestBytes);

// The long form of a header name for the fields Confab treats specially
// (compact forms such as "v", "i", "f", "t", "m", "l", "c" included, any case),
// e.g. "Call-ID"; other names are returned as given.
std::string canonical_header_name(std::string_view name);

}  // namespace confab::sip
