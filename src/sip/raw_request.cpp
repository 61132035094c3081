#include "sip/raw_request.h"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "sip/text_lines.h"
#include "sip/uri.h"

namespace confab::sip {

namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-.!%*_+`'~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Shortened for error messages: user text can be long or binary.
std::string quoted(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return "'" + out + (s.size() > 60 ? "...'" : "'");
}

bool has_control_char(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

RawRequestResult failure(int code, std::string why) {
  RawRequestResult r;
  r.code = code;
  r.error = std::move(why);
  return r;
}

// A message Sofia's parser accepts with no header it could not parse.
bool sofia_accepts(const std::string& text) {
  auto m = Message::parse(text);
  return m && m->is_request() && !m->is_malformed();
}

}  // namespace

std::string canonical_header_name(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> known[] = {
      {"via", "Via"}, {"v", "Via"}, {"call-id", "Call-ID"}, {"i", "Call-ID"}, {"cseq", "CSeq"},
      {"content-length", "Content-Length"}, {"l", "Content-Length"}, {"content-type", "Content-Type"},
      {"c", "Content-Type"}, {"from", "From"}, {"f", "From"}, {"to", "To"}, {"t", "To"},
      {"contact", "Contact"}, {"m", "Contact"}, {"route", "Route"}, {"record-route", "Record-Route"},
      {"max-forwards", "Max-Forwards"}};
  for (auto& [lower, canonical] : known)
    if (name.size() == lower.size() && strncasecmp(name.data(), lower.data(), name.size()) == 0)
      return std::string(canonical);
  return std::string(name);
}

namespace {

// A request split at its first blank line: the head's lines (LF or CRLF) and the body.
struct HeadAndBody {
  std::vector<std::string_view> lines;
  std::string_view body;
};

HeadAndBody split_head(std::string_view text) {
  HeadAndBody out;
  bool blank_line = false;
  size_t pos = 0;
  while (pos < text.size()) {
    std::string_view line = next_line(text, pos);
    if (line.empty()) {
      blank_line = true;
      out.body = text.substr(pos);
      break;
    }
    out.lines.push_back(line);
  }
  if (!blank_line) {  // no body: trailing blanks after the last field are layout, not content
    while (!out.lines.empty() && trim(out.lines.back()).empty()) out.lines.pop_back();
  }
  return out;
}

// Each step below fills `out` and returns what is wrong (a 400), "" when nothing is.

// Request line: METHOD SP Request-URI SP SIP/2.0
std::string read_request_line(std::string_view first, RawRequest& out) {
  if (first.substr(0, 4) == "SIP/") return "this is a response (status line " + quoted(first) + "), not a request";
  size_t sp1 = first.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : first.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || first.find(' ', sp2 + 1) != std::string_view::npos)
    return "line 1 must be 'METHOD sip:uri SIP/2.0', not " + quoted(first);
  std::string_view method = first.substr(0, sp1), uri = first.substr(sp1 + 1, sp2 - sp1 - 1),
                   version = first.substr(sp2 + 1);
  if (!is_token(method)) return "line 1: " + quoted(method) + " is not a method name";
  if (version.size() != 7 || strncasecmp(version.data(), "SIP/2.0", 7) != 0)
    return "line 1: the version must be SIP/2.0, not " + quoted(version);
  auto parsed_uri = Uri::parse(uri);
  if (!parsed_uri || (parsed_uri->scheme() != "sip" && parsed_uri->scheme() != "sips" && parsed_uri->scheme() != "tel") ||
      (parsed_uri->scheme() != "tel" && parsed_uri->host().empty()))
    return "line 1: " + quoted(uri) + " is not a sip:, sips: or tel: URI";
  out.method = std::string(method);
  out.request_uri = std::string(uri);
  return {};
}

using NumberedFields = std::vector<std::pair<size_t, HeaderField>>;  // (line number, field)

// Header fields, with folded continuation lines (leading SP/HT) joined by one space.
std::string read_fields(const std::vector<std::string_view>& lines, NumberedFields& fields) {
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (has_control_char(line)) return "line " + std::to_string(i + 1) + " holds a control character";
    if (line.front() == ' ' || line.front() == '\t') {
      if (fields.empty()) return "line 2 starts with white space but there is no field to continue";
      auto& v = fields.back().second.value;
      v += (v.empty() ? "" : " ") + std::string(trim(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos)
      return "line " + std::to_string(i + 1) + ": " + quoted(line) + " is not a header field (Name: value)";
    std::string_view name = trim(line.substr(0, colon));
    if (!is_token(name)) return "line " + std::to_string(i + 1) + ": " + quoted(name) + " is not a header field name";
    fields.push_back({i + 1, HeaderField{std::string(name), std::string(trim(line.substr(colon + 1)))}});
    if (fields.size() > kMaxRawRequestHeaders)
      return "more than " + std::to_string(kMaxRawRequestHeaders) + " header fields";
  }
  return {};
}

// Sorts the fields: Content-Type apart, the stack's own ones dropped, the rest kept in order.
std::string sort_fields(NumberedFields& fields, RawRequest& out, std::optional<size_t>& content_length) {
  for (auto& [line_no, f] : fields) {
    std::string canonical = canonical_header_name(f.name);
    if (canonical == "Content-Length") {
      size_t n = 0;
      auto [end, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), n);
      if (ec != std::errc() || end != f.value.data() + f.value.size())
        return "line " + std::to_string(line_no) + ": Content-Length " + quoted(f.value) + " is not a number";
      content_length = n;
    }
    if (canonical == "Via" || canonical == "Call-ID" || canonical == "CSeq" || canonical == "Content-Length") {
      if (std::find(out.dropped.begin(), out.dropped.end(), canonical) == out.dropped.end())
        out.dropped.push_back(canonical);
    } else if (canonical == "Content-Type") {
      out.content_type = f.value;
    } else {
      out.headers.push_back(std::move(f));
    }
  }
  return {};
}

// A Content-Length shorter than what follows cuts the body (as on a stream); a longer one is an error.
std::string read_body(std::string_view body, std::optional<size_t> content_length, RawRequest& out) {
  if (content_length) {
    if (*content_length > body.size())
      return "Content-Length says " + std::to_string(*content_length) + " bytes but the body has " +
             std::to_string(body.size());
    body = body.substr(0, *content_length);
  }
  if (body.find('\0') != std::string_view::npos) return "the body holds a NUL byte (binary bodies are not supported)";
  out.body = std::string(body);
  if (!out.body.empty() && out.content_type.empty()) return "a body needs a Content-Type field";
  if (out.body.empty()) out.content_type.clear();
  return {};
}

// Lets Sofia's parser judge the field values (From, Route, Event, ...), the
// way it will when the request is built; names the first field it refuses.
std::string sofia_verdict(const RawRequest& out) {
  std::string head = out.method + " " + out.request_uri + " SIP/2.0\r\n";
  std::string fields_text;
  for (auto& h : out.headers) fields_text += h.name + ": " + h.value + "\r\n";
  if (!out.content_type.empty()) fields_text += "Content-Type: " + out.content_type + "\r\n";
  std::string whole = head + fields_text + "Content-Length: " + std::to_string(out.body.size()) + "\r\n\r\n" + out.body;
  if (sofia_accepts(whole)) return {};
  std::vector<HeaderField> all = out.headers;
  if (!out.content_type.empty()) all.push_back({"Content-Type", out.content_type});
  for (auto& h : all)
    if (!sofia_accepts(head + h.name + ": " + h.value + "\r\nContent-Length: 0\r\n\r\n"))
      return "the " + h.name + " field " + quoted(h.value) + " does not parse";
  return "the request does not parse as SIP";
}

}  // namespace

RawRequestResult parse_raw_request(std::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes)
    return failure(413, "the request is " + std::to_string(text.size()) + " bytes; at most " +
                            std::to_string(max_bytes) + " are accepted");
  // Indentation and blank lines before the request line come from XML layout.
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  if (text.empty()) return failure(400, "empty request: expected 'METHOD sip:uri SIP/2.0', header fields, a blank line and the body");

  HeadAndBody parts = split_head(text);
  RawRequest out;
  NumberedFields fields;
  std::optional<size_t> content_length;
  std::string error = read_request_line(parts.lines.front(), out);
  if (error.empty()) error = read_fields(parts.lines, fields);
  if (error.empty()) error = sort_fields(fields, out, content_length);
  if (error.empty()) error = read_body(parts.body, content_length, out);
  if (error.empty()) error = sofia_verdict(out);
  if (!error.empty()) return failure(400, std::move(error));
  RawRequestResult ok;
  ok.request = std::move(out);
  return ok;
}

}  // namespace confab::sip
