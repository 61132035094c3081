#include "web/page_meta.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>

#include "sip/uri.h"

namespace confab::web {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

// A tag's attributes from just after its name to its '>' (quotes respected):
// calls fn(name, value) for each; returns where the tag ends.
template <typename Fn>
size_t scan_attributes(std::string_view html, size_t at, Fn fn) {
  while (at < html.size()) {
    while (at < html.size() && (is_space(html[at]) || html[at] == '/')) ++at;
    if (at >= html.size() || html[at] == '>') return at;
    size_t name_start = at;
    while (at < html.size() && !is_space(html[at]) && html[at] != '=' && html[at] != '>' && html[at] != '/') ++at;
    std::string_view name = html.substr(name_start, at - name_start);
    while (at < html.size() && is_space(html[at])) ++at;
    std::string_view value;
    if (at < html.size() && html[at] == '=') {
      ++at;
      while (at < html.size() && is_space(html[at])) ++at;
      if (at < html.size() && (html[at] == '"' || html[at] == '\'')) {
        char quote = html[at++];
        size_t end = html.find(quote, at);
        if (end == std::string_view::npos) end = html.size();
        value = html.substr(at, end - at);
        at = end + 1;
      } else {
        size_t start = at;
        while (at < html.size() && !is_space(html[at]) && html[at] != '>') ++at;
        value = html.substr(start, at - start);
      }
    }
    if (!name.empty()) fn(name, value);
  }
  return at;
}

std::string decode_amp(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 5) == "&amp;") {
      out += '&';
      i += 4;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string conference_user(std::string_view page_path) {
  std::string user;
  for (char c : page_path) {
    char l = lower(c);
    bool keep = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (keep)
      user += l;
    else if (!user.empty() && user.back() != '-')
      user += '-';
  }
  while (!user.empty() && user.back() == '-') user.pop_back();
  if (user.empty()) return "web-home";
  user = "web-" + user;
  if (user.size() <= kMaxUser) return user;
  std::string hash = fmt::format("-{:08x}", fnv1a(page_path));
  user.resize(kMaxUser - hash.size());
  while (user.back() == '-') user.pop_back();
  return user + hash;
}

std::string default_conference(std::string_view page_path, std::string_view conference_host) {
  return "sip:" + conference_user(page_path) + "@" + std::string(conference_host);
}

bool valid_conference_uri(std::string_view uri) {
  if (uri.size() > 512) return false;
  auto u = sip::Uri::parse(std::string(uri));
  return u && (u->scheme() == "sip" || u->scheme() == "sips") && !u->user().empty() && !u->host().empty();
}

std::string meta_conference(std::string_view html) {
  size_t at = 0;
  while (at < html.size()) {
    size_t open = html.find('<', at);
    if (open == std::string_view::npos) return {};
    at = open + 1;
    bool meta = iequals(html.substr(at, 4), "meta") && at + 4 < html.size() &&
                (is_space(html[at + 4]) || html[at + 4] == '/');
    if (!meta) continue;
    bool ours = false;
    std::string_view content;
    bool has_content = false;
    at = scan_attributes(html, at + 4, [&](std::string_view name, std::string_view value) {
      if (iequals(name, "name") && iequals(trim(value), "confab-conference")) ours = true;
      if (iequals(name, "content") && !has_content) {
        content = value;
        has_content = true;
      }
    });
    if (ours && has_content) return decode_amp(trim(content));
  }
  return {};
}

FrontMatter split_front_matter(std::string_view markdown) {
  FrontMatter fm{{}, {}, markdown};
  std::string_view rest = markdown;
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);  // a UTF-8 byte order mark
  bool any = false;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    std::string_view after = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (any && trim(line).empty()) {
      rest = after;
      break;
    }
    auto colon = line.find(':');
    std::string_view key = colon == std::string_view::npos ? std::string_view() : trim(line.substr(0, colon));
    std::string* field = iequals(key, "conference") ? &fm.conference : iequals(key, "title") ? &fm.title : nullptr;
    if (!field) break;
    *field = std::string(trim(line.substr(colon + 1)));
    any = true;
    rest = after;
  }
  if (any) fm.body = rest;
  return fm;
}

}  // namespace confab::web
