// Internal to src/sip: what the two halves of Message (message.cpp: the message
// as a whole; message_headers.cpp: its header fields) share for reading Sofia's
// parsed structures.
#pragma once

#include <sofia-sip/sip.h>
#include <sofia-sip/url.h>

#include <string>
#include <string_view>

struct msg_s;

namespace confab::sip {

// The parsed SIP structure of a message; null for no message.
inline sip_t* sip_of(msg_s* m) { return m ? sip_object(m) : nullptr; }

// A C string as a view; empty for null.
inline std::string_view sv(const char* s) { return s ? std::string_view(s) : std::string_view(); }

// A parsed URL printed back ("" for null).
inline std::string url_str(const url_t* url) {
  if (!url) return {};
  isize_t n = url_e(nullptr, 0, url);
  if (n <= 0) return {};
  std::string s(static_cast<size_t>(n) + 1, '\0');
  url_e(s.data(), n + 1, url);
  s.resize(static_cast<size_t>(n));
  return s;
}

}  // namespace confab::sip
