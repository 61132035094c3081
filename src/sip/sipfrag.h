// The status line of a message/sipfrag body (RFC 3420), as the NOTIFYs of a
// REFER carry it (RFC 3515): "SIP/2.0 200 OK".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace confab::sip {

struct SipfragStatus {
  int status = 0;      // 100..699
  std::string reason;  // the reason phrase, "" if none
};
// nullopt unless `body` starts with "SIP/2.0 " and exactly three digits.
std::optional<SipfragStatus> parse_sipfrag(std::string_view body);

}  // namespace confab::sip
