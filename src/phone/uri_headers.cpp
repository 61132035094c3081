#include "phone/uri_headers.h"

#include <boost/url/pct_string_view.hpp>

namespace confab::phone {

namespace {

// `escaped` with its %-escapes decoded; nullopt if one is malformed or decodes to NUL.
std::optional<std::string> unescape(std::string_view escaped) {
  auto pct = boost::urls::make_pct_string_view(escaped);
  if (!pct) return std::nullopt;
  std::string plain = pct->decode();
  if (plain.find('\0') != std::string::npos) return std::nullopt;
  return plain;
}

}  // namespace

std::optional<UriWithHeaders> split_uri_headers(std::string_view text) {
  auto question = text.find('?');
  if (question == std::string_view::npos) return UriWithHeaders{std::string(text), {}};
  UriWithHeaders out{std::string(text.substr(0, question)), {}};
  std::string_view rest = text.substr(question + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    auto name = unescape(item.substr(0, eq)), value = unescape(item.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    if (name->empty() || *name == "body") continue;
    out.headers.push_back({std::move(*name), std::move(*value)});
  }
  return out;
}

}  // namespace confab::phone
