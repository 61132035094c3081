#include "sip/sipfrag.h"

#include <charconv>

namespace confab::sip {

std::optional<SipfragStatus> parse_sipfrag(std::string_view body) {
  constexpr std::string_view kPrefix = "SIP/2.0 ";
  if (body.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  body.remove_prefix(kPrefix.size());
  int code = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + std::min<size_t>(body.size(), 3), code);
  bool ends = body.size() == 3 || body[3] == ' ' || body[3] == '\r';  // exactly three digits
  if (ec != std::errc() || p != body.data() + 3 || !ends || code < 100 || code >= 700) return std::nullopt;
  std::string_view reason = body.size() > 4 && body[3] == ' ' ? body.substr(4) : std::string_view();
  reason = reason.substr(0, reason.find_first_of("\r\n"));
  return SipfragStatus{code, std::string(reason)};
}

}  // namespace confab::sip
