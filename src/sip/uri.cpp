#include "sip/uri.h"

#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <strings.h>

#include "base/host_port.h"
#include "sip/sofia_runtime.h"

namespace confab::sip {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Splits "a=b;c;d=e" and calls fn(name, value) for each; stops when fn returns true.
template <typename Fn>
void for_each_param(std::string_view params, Fn fn) {
  while (!params.empty()) {
    auto semi = params.find(';');
    auto item = params.substr(0, semi);
    auto eq = item.find('=');
    auto name = item.substr(0, eq);
    auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (!name.empty() && fn(name, value)) return;
    if (semi == std::string_view::npos) break;
    params.remove_prefix(semi + 1);
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// RFC 3261 host: a host name (letters, digits, '-', '.'; '_' tolerated), an IPv4
// address, or an IPv6 reference in brackets. Sofia's parser lets other bytes through.
bool valid_host(std::string_view h) {
  if (h.empty() || h.size() > 255) return false;
  if (h.front() == '[') {
    if (h.size() < 3 || h.back() != ']') return false;
    for (char c : h.substr(1, h.size() - 2))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    return true;
  }
  for (char c : h)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

}  // namespace

std::optional<Uri> Uri::parse(std::string_view text) {
  if (text.empty() || text.size() > 4096) return std::nullopt;
  ensure_sofia_runtime();
  std::string buf(text);
  url_t url[1];
  url_init(url, url_sip);
  if (url_d(url, buf.data()) < 0) return std::nullopt;
  if (url->url_type != url_sip && url->url_type != url_sips && url->url_type != url_tel)
    return std::nullopt;
  if (url->url_type != url_tel && (!url->url_host || !valid_host(url->url_host))) return std::nullopt;
  Uri u;
  u.scheme_ = lower(url->url_scheme ? url->url_scheme : "sip");
  if (url->url_user) u.user_ = url->url_user;
  if (url->url_password) u.password_ = url->url_password;
  if (url->url_host) u.host_ = url->url_host;
  if (url->url_port) u.port_ = url->url_port;
  if (url->url_params) u.params_ = url->url_params;
  if (url->url_headers) u.headers_ = url->url_headers;
  // tel: the number is the user part; there is no host.
  if (url->url_type == url_tel) {
    if (u.user_.empty()) u.user_ = u.host_;
    u.host_.clear();
  }
  return u;
}

std::string Uri::user_unescaped() const {
  std::string out(user_.size(), '\0');  // unescaping never lengthens
  out.resize(url_unescape_to(out.data(), user_.c_str(), user_.size()));
  return out;
}

std::string Uri::str() const {
  std::string s = scheme_ + ":";
  if (scheme_ == "tel") {
    s += user_;
  } else {
    if (!user_.empty()) {
      s += user_;
      if (!password_.empty()) s += ":" + password_;
      s += "@";
    }
    s += host_port(host_, port_);
  }
  if (!params_.empty()) s += ";" + params_;
  if (!headers_.empty()) s += "?" + headers_;
  return s;
}

std::optional<std::string> Uri::param(std::string_view name) const {
  std::optional<std::string> found;
  for_each_param(params_, [&](std::string_view n, std::string_view v) {
    if (iequals(n, name)) {
      found = std::string(v);
      return true;
    }
    return false;
  });
  return found;
}

std::string Uri::transport() const {
  auto t = param("transport");
  return t ? lower(*t) : std::string();
}

uint16_t Uri::port_or_default() const {
  if (!port_.empty()) {
    try {
      int p = std::stoi(port_);
      if (p > 0 && p < 65536) return static_cast<uint16_t>(p);
    } catch (...) {
    }
  }
  return (is_sips() || transport() == "tls") ? 5061 : 5060;
}

void Uri::set_param(std::string_view name, std::string_view value) {
  remove_param(name);
  if (!params_.empty()) params_ += ";";
  params_ += name;
  if (!value.empty()) {
    params_ += "=";
    params_ += value;
  }
}

void Uri::remove_param(std::string_view name) {
  std::string out;
  for_each_param(params_, [&](std::string_view n, std::string_view v) {
    if (!iequals(n, name)) {
      if (!out.empty()) out += ";";
      out += n;
      if (!v.empty()) {
        out += "=";
        out += v;
      }
    }
    return false;
  });
  params_ = out;
}

bool Uri::equivalent(const Uri& o) const {
  if (scheme_ != o.scheme_ || user_ != o.user_ || !iequals(host_, o.host_)) return false;
  if (port_or_default() != o.port_or_default()) return false;
  for (auto name : {"transport", "user", "method", "maddr", "ttl"}) {
    auto a = param(name), b = o.param(name);
    if (a.has_value() != b.has_value()) return false;
    if (a && !iequals(*a, *b)) return false;
  }
  return true;
}

std::string parse_conference_host(std::string_view text) {
  auto hp = base::split_host_port(text, true);
  if (!hp || hp->host.empty())
    throw std::invalid_argument("--conference-host must be HOST or HOST:PORT (e.g. 127.0.0.1:5080), not '" +
                                std::string(text) + "'");
  return host_port(hp->host, hp->port ? std::to_string(hp->port) : "");
}

std::string host_port(std::string_view host, std::string_view port) {
  std::string s;
  bool v6 = host.find(':') != std::string_view::npos && (host.empty() || host.front() != '[');
  if (v6) s += "[";
  s += host;
  if (v6) s += "]";
  if (!port.empty()) {
    s += ":";
    s += port;
  }
  return s;
}

std::string telephone_digits(std::string_view number) {
  if (number.size() >= 4 && strncasecmp(number.data(), "tel:", 4) == 0) number.remove_prefix(4);
  number = number.substr(0, number.find(';'));
  std::string digits;
  bool any_digit = false;
  for (char c : number) {
    if (isdigit(static_cast<unsigned char>(c))) any_digit = true;
    if (isdigit(static_cast<unsigned char>(c)) || c == '+' || c == '*' || c == '#')
      digits += c;
    else if (c != '-' && c != '.' && c != '(' && c != ')' && c != ' ')
      return {};
  }
  return any_digit ? digits : std::string();
}

bool is_sip_uri(std::string_view text) {
  auto u = Uri::parse(text);
  return u && (u->scheme() == "sip" || u->scheme() == "sips") && !u->host().empty();
}

std::string address_key(std::string_view uri) {
  auto u = Uri::parse(uri);
  if (!u) return std::string(uri);
  std::string host = u->host();
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return u->scheme() + ":" + u->user() + "@" + host + ":" + std::to_string(u->port_or_default());
}

}  // namespace confab::sip
