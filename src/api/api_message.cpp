#include "api/api_message.h"

namespace confab::api {

std::string ApiMessage::attr(std::string_view key, std::string_view fallback) const {
  for (const auto& [k, v] : attributes)
    if (k == key) return v;
  return std::string(fallback);
}

bool ApiMessage::has(std::string_view key) const {
  for (const auto& a : attributes)
    if (a.first == key) return true;
  return false;
}

ApiMessage& ApiMessage::set(std::string_view key, std::string_view value) {
  for (auto& [k, v] : attributes)
    if (k == key) {
      v = value;
      return *this;
    }
  attributes.emplace_back(key, value);
  return *this;
}

ApiMessage& ApiMessage::add(ApiMessage child) {
  children.push_back(std::move(child));
  return *this;
}

std::vector<const ApiMessage*> ApiMessage::all(std::string_view element) const {
  std::vector<const ApiMessage*> out;
  for (const auto& c : children)
    if (c.name == element) out.push_back(&c);
  return out;
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      default:
        // Control characters are not allowed in XML 1.0: drop them rather than
        // emit a document the reader would refuse.
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
    }
  }
  return out;
}

namespace {

void write(const ApiMessage& m, std::string& out) {
  out += '<';
  out += m.name;
  for (const auto& [k, v] : m.attributes) {
    out += ' ';
    out += k;
    out += "=\"";
    out += xml_escape(v);
    out += '"';
  }
  if (m.children.empty() && m.text.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  out += xml_escape(m.text);
  for (const auto& c : m.children) write(c, out);
  out += "</";
  out += m.name;
  out += '>';
}

}  // namespace

std::string to_xml(const ApiMessage& message) {
  std::string out;
  write(message, out);
  return out;
}

}  // namespace confab::api
