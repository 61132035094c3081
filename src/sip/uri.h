// SIP/SIPS/TEL URIs as plain values, parsed and printed by Sofia's URL parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace confab::sip {

class Uri {
 public:
  // Parses "sip:user@host:port;params?headers" (also sips:, tel:, and a
  // name-addr's <...> is not accepted: pass the bare URI). nullopt if invalid.
  static std::optional<Uri> parse(std::string_view text);

  std::string str() const;

  const std::string& scheme() const { return scheme_; }
  const std::string& user() const { return user_; }  // as written, %-escapes kept
  // The user part with its %-escapes decoded by Sofia's url_unescape ("a%20b" -> "a b").
  // parse() already refuses a URI with an invalid escape ("%zz", a lone '%'); one
  // that set_user() put there is left as written, never refused. "%00" decodes to
  // a NUL character in the string.
  std::string user_unescaped() const;
  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }  // as written; empty if absent
  const std::string& params() const { return params_; }  // "a=b;lr" without the leading ';'
  const std::string& headers() const { return headers_; }

  // The value of URI parameter `name` ("" for a flag like ;lr); nullopt if absent.
  std::optional<std::string> param(std::string_view name) const;
  bool has_param(std::string_view name) const { return param(name).has_value(); }
  // Lower-case transport parameter, "" if absent.
  std::string transport() const;
  // Port number, or the scheme's default (5060, 5061 for sips / transport=tls).
  uint16_t port_or_default() const;
  bool is_sips() const { return scheme_ == "sips"; }

  void set_user(std::string u) { user_ = std::move(u); }
  void set_host(std::string h) { host_ = std::move(h); }
  void set_port(std::string p) { port_ = std::move(p); }
  void set_params(std::string p) { params_ = std::move(p); }
  void set_headers(std::string h) { headers_ = std::move(h); }
  // Adds or replaces parameter `name` (value "" adds a flag).
  void set_param(std::string_view name, std::string_view value);
  void remove_param(std::string_view name);

  // RFC 3261 section 19.1.4 equivalence: scheme, user, host (case-insensitive),
  // port (default port equal to absent), and transport/user/method/maddr/ttl params.
  bool equivalent(const Uri& other) const;

 private:
  std::string scheme_, user_, password_, host_, port_, params_, headers_;
};

// "host:port" with IPv6 brackets kept; ":port" only when the port is not empty.
std::string host_port(std::string_view host, std::string_view port);

// --conference-host (of `confab game` and `confab web`): HOST or HOST:PORT, as
// "host[:port]" for a SIP URI ("[::1]:5080"). Throws std::invalid_argument
// naming the option and the text.
std::string parse_conference_host(std::string_view text);

// The dialable digits of a telephone number ("tel:+1-555-0100", "+1 (555) 0100",
// parameters after ';' ignored): digits, '+', '*', '#', with the RFC 3966 visual
// separators (- . ( ) and space) dropped. "" if anything else is in it, or no digit.
std::string telephone_digits(std::string_view number);

// A sip: or sips: URI with a host: something the service can INVITE.
bool is_sip_uri(std::string_view text);

// The form in which rosters compare addresses: "scheme:user@host:port", the host in
// lower case and the port made explicit; other parts dropped. The text itself if it
// is not a URI.
std::string address_key(std::string_view uri);

}  // namespace confab::sip
