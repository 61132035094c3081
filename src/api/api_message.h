// The local API's messages (docs/api.md): each is one XML element with
// attributes, child elements and text, e.g.
//   <Join id="sip:room7@conf.example.com" tag="7"><Use dev="desk"/></Join>
// The service and the command-line client both read and write them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confab::api {

struct ApiMessage {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;  // in document order
  std::vector<ApiMessage> children;
  std::string text;  // character data directly inside the element

  ApiMessage() = default;
  explicit ApiMessage(std::string element) : name(std::move(element)) {}

  // The attribute's value, or `fallback` when absent.
  std::string attr(std::string_view key, std::string_view fallback = {}) const;
  bool has(std::string_view key) const;
  // Sets (replaces) an attribute; returns *this for chaining.
  ApiMessage& set(std::string_view key, std::string_view value);
  ApiMessage& add(ApiMessage child);
  // Children named `element`.
  std::vector<const ApiMessage*> all(std::string_view element) const;
};

// The element as XML (attributes and text escaped), no XML declaration.
std::string to_xml(const ApiMessage& message);
std::string xml_escape(std::string_view text);

}  // namespace confab::api
