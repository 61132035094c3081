// Reading SIP/SDP text line by line: lines end in CRLF, or LF as people type them.
#pragma once

#include <string_view>

namespace confab::sip {

// The line of `text` starting at `pos`, without its CRLF/LF; `pos` moves past it.
inline std::string_view next_line(std::string_view text, size_t& pos) {
  size_t nl = text.find('\n', pos);
  std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
  pos = nl == std::string_view::npos ? text.size() : nl + 1;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace confab::sip
