#include "api/api_json.h"

#include <boost/json.hpp>

namespace confab::api {

namespace json = boost::json;

namespace {

json::object object_of(const ApiMessage& m) {
  json::object o;
  o["type"] = m.name;
  for (const auto& [k, v] : m.attributes) o[k] = v;
  if (!m.text.empty()) o["text"] = m.text;
  if (!m.children.empty()) {
    json::array children;
    for (const auto& c : m.children) children.push_back(object_of(c));
    o["children"] = std::move(children);
  }
  return o;
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  return isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_';
}

// XML 1.0 cannot carry other control characters, nor U+FFFE, U+FFFF and the
// UTF-16 surrogates (UTF-8: EF BF BE/BF, ED A0..BF ..), so the twin refuses them too.
bool xml_safe(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
    if (i + 2 < s.size()) {
      auto c1 = static_cast<unsigned char>(s[i + 1]), c2 = static_cast<unsigned char>(s[i + 2]);
      if (c == 0xEF && c1 == 0xBF && (c2 == 0xBE || c2 == 0xBF)) return false;
      if (c == 0xED && c1 >= 0xA0) return false;
    }
  }
  return true;
}

bool message_of(const json::value& v, ApiMessage& out, size_t depth, size_t& elements, const ReaderLimits& limits,
                std::string& error) {
  if (depth > limits.max_depth) return error = "message nested deeper than " + std::to_string(limits.max_depth), false;
  if (++elements > limits.max_elements) return error = "message has too many elements", false;
  const json::object* o = v.if_object();
  if (!o) return error = "a message must be a JSON object", false;
  const json::value* type = o->if_contains("type");
  if (!type || !type->is_string() || !is_name(type->get_string()))
    return error = "a message needs \"type\": the element name, e.g. \"Join\"", false;
  out.name = std::string(type->get_string());
  for (const auto& [key, value] : *o) {
    if (key == "type") continue;
    if (key == "children") {
      const json::array* a = value.if_array();
      if (!a) return error = "\"children\" must be an array", false;
      for (const auto& c : *a) {
        out.children.emplace_back();
        if (!message_of(c, out.children.back(), depth + 1, elements, limits, error)) return false;
      }
    } else if (key == "text") {
      if (!value.is_string() || !xml_safe(value.get_string())) return error = "\"text\" must be a string of text", false;
      out.text = std::string(value.get_string());
    } else {
      if (!is_name(key)) return error = "bad attribute name", false;
      if (out.attributes.size() >= limits.max_attributes) return error = "too many attributes", false;
      // Numbers and booleans are accepted for convenience and kept as their JSON text.
      if (value.is_string() && !xml_safe(value.get_string()))
        return error = "attribute \"" + std::string(key) + "\" holds control characters", false;
      if (value.is_string())
        out.attributes.emplace_back(std::string(key), std::string(value.get_string()));
      else if (value.is_number() || value.is_bool())
        out.attributes.emplace_back(std::string(key), json::serialize(value));
      else
        return error = "attribute \"" + std::string(key) + "\" must be a string", false;
    }
  }
  return true;
}

}  // namespace

std::string to_json(const ApiMessage& message) { return json::serialize(object_of(message)); }

bool from_json(std::string_view text, ApiMessage& out, std::string* error, const ReaderLimits& limits) {
  std::string why;
  if (text.size() > limits.max_message_bytes) {
    why = "message larger than " + std::to_string(limits.max_message_bytes) + " bytes";
  } else {
    json::parse_options options;
    options.max_depth = 2 * limits.max_depth + 2;  // each level is an object and a "children" array
    boost::system::error_code ec;
    json::value v = json::parse(text, ec, {}, options);
    size_t elements = 0;
    out = ApiMessage();
    if (ec)
      why = "malformed JSON: " + ec.message();
    else
      message_of(v, out, 1, elements, limits, why);
  }
  if (!why.empty() && error) *error = why;
  return why.empty();
}

}  // namespace confab::api
