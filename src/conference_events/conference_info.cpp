// Rendering and parsing of the RFC 4575 conference-info document with pugixml.
// Child elements are written in the order of the RFC's schema (section 5);
// the parser matches elements by local name in the conference-info namespace
// (default or any prefix bound to it) and skips everything else.
#include "conference_events/conference_info.h"

#include <array>
#include <charconv>
#include <sstream>
#include <utility>

#include <pugixml.hpp>

namespace confab::conference_events {

namespace {

constexpr std::array<std::pair<EndpointStatus, std::string_view>, 9> kStatusNames = {{
    {EndpointStatus::Pending, "pending"},
    {EndpointStatus::DialingOut, "dialing-out"},
    {EndpointStatus::DialingIn, "dialing-in"},
    {EndpointStatus::Alerting, "alerting"},
    {EndpointStatus::OnHold, "on-hold"},
    {EndpointStatus::Connected, "connected"},
    {EndpointStatus::MutedViaFocus, "muted-via-focus"},
    {EndpointStatus::Disconnecting, "disconnecting"},
    {EndpointStatus::Disconnected, "disconnected"},
}};

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

// ---- rendering ----

void add_text_child(pugi::xml_node parent, const char* name, const std::string& text) {
  if (!text.empty()) parent.append_child(name).text().set(text.c_str());
}

void set_state(pugi::xml_node node, ElementState state) {
  if (state != ElementState::Full) node.append_attribute("state").set_value(std::string(state_name(state)).c_str());
}

void render_endpoint(pugi::xml_node parent, const Endpoint& endpoint) {
  auto node = parent.append_child("endpoint");
  node.append_attribute("entity").set_value(endpoint.entity.c_str());
  set_state(node, endpoint.state);
  add_text_child(node, "display-text", endpoint.display_text);
  if (endpoint.status) node.append_child("status").text().set(std::string(status_name(*endpoint.status)).c_str());
  add_text_child(node, "joining-method", endpoint.joining_method);
  if (!endpoint.joining_when.empty()) add_text_child(node.append_child("joining-info"), "when", endpoint.joining_when);
  add_text_child(node, "disconnection-method", endpoint.disconnection_method);
  if (!endpoint.media_id.empty() || !endpoint.media_type.empty() || !endpoint.media_status.empty()) {
    auto media = node.append_child("media");
    media.append_attribute("id").set_value(endpoint.media_id.c_str());
    add_text_child(media, "type", endpoint.media_type);
    add_text_child(media, "status", endpoint.media_status);
  }
}

void render_user(pugi::xml_node parent, const User& user) {
  auto node = parent.append_child("user");
  node.append_attribute("entity").set_value(user.entity.c_str());
  set_state(node, user.state);
  add_text_child(node, "display-text", user.display_text);
  for (const auto& endpoint : user.endpoints) render_endpoint(node, endpoint);
}

void render_into(pugi::xml_document& doc, const ConferenceInfo& info, uint32_t version) {
  auto root = doc.append_child("conference-info");
  root.append_attribute("xmlns").set_value(kNamespace);
  root.append_attribute("entity").set_value(info.entity.c_str());
  root.append_attribute("state").set_value(std::string(state_name(info.state)).c_str());
  root.append_attribute("version").set_value(version);

  if (!info.display_text.empty() || !info.conf_uris.empty() || info.maximum_user_count) {
    auto description = root.append_child("conference-description");
    add_text_child(description, "display-text", info.display_text);
    if (!info.conf_uris.empty()) {
      auto uris = description.append_child("conf-uris");
      for (const auto& uri : info.conf_uris) add_text_child(uris.append_child("entry"), "uri", uri);
    }
    if (info.maximum_user_count) description.append_child("maximum-user-count").text().set(*info.maximum_user_count);
  }
  if (info.user_count || info.active || info.locked) {
    auto state = root.append_child("conference-state");
    if (info.user_count) state.append_child("user-count").text().set(*info.user_count);
    if (info.active) state.append_child("active").text().set(*info.active ? "true" : "false");
    if (info.locked) state.append_child("locked").text().set(*info.locked ? "true" : "false");
  }
  if (!info.users.empty() || info.state == ElementState::Full) {
    auto users = root.append_child("users");
    if (info.state == ElementState::Partial) users.append_attribute("state").set_value("partial");
    for (const auto& user : info.users) render_user(users, user);
  }
}

std::string to_string(const pugi::xml_document& doc) {
  std::ostringstream out;
  out << kXmlDeclaration;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return std::move(out).str();
}

// ---- parsing ----

struct ParseError {
  std::string message;
};

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// The namespace an element's prefix (or the default namespace) is bound to,
// looking up the ancestors' xmlns attributes; empty when unbound.
std::string_view namespace_of(pugi::xml_node node) {
  std::string_view name = node.name();
  auto colon = name.find(':');
  std::string binding = colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  for (auto scope = node; scope && scope.type() == pugi::node_element; scope = scope.parent()) {
    if (auto attribute = scope.attribute(binding.c_str())) return attribute.value();
  }
  return {};
}

bool is_element(pugi::xml_node node, std::string_view local_name) {
  if (node.type() != pugi::node_element) return false;
  std::string_view name = node.name();
  auto colon = name.find(':');
  if (colon != std::string_view::npos) name.remove_prefix(colon + 1);
  return name == local_name && namespace_of(node) == kNamespace;
}

// The first child element with that local name in our namespace, or an empty node.
pugi::xml_node child(pugi::xml_node parent, std::string_view local_name) {
  for (auto node : parent.children()) {
    if (is_element(node, local_name)) return node;
  }
  return {};
}

// Free text (xs:string) is kept as written; tokens, URIs and dates are trimmed.
std::string child_text(pugi::xml_node parent, std::string_view local_name) {
  return child(parent, local_name).child_value();
}

std::string child_token(pugi::xml_node parent, std::string_view local_name) {
  return std::string(trim(child(parent, local_name).child_value()));
}

uint32_t parse_unsigned(std::string_view text, std::string_view what) {
  text = trim(text);
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw ParseError{std::string(what) + " is not an unsigned integer: '" + std::string(text) + "'"};
  }
  return value;
}

std::optional<uint32_t> optional_unsigned(pugi::xml_node parent, std::string_view local_name) {
  auto node = child(parent, local_name);
  if (!node) return std::nullopt;
  return parse_unsigned(node.child_value(), local_name);
}

std::optional<bool> optional_bool(pugi::xml_node parent, std::string_view local_name) {
  auto node = child(parent, local_name);
  if (!node) return std::nullopt;
  auto text = trim(node.child_value());
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  throw ParseError{std::string(local_name) + " is not a boolean: '" + std::string(text) + "'"};
}

ElementState parse_state(pugi::xml_node node) {
  auto attribute = node.attribute("state");
  if (!attribute) return ElementState::Full;
  auto state = state_from(trim(attribute.value()));
  if (!state) throw ParseError{std::string("bad state '") + attribute.value() + "' on " + node.name()};
  return *state;
}

std::string required_entity(pugi::xml_node node) {
  auto attribute = node.attribute("entity");
  if (!attribute) throw ParseError{std::string(node.name()) + " has no entity"};
  return std::string(trim(attribute.value()));
}

Endpoint parse_endpoint(pugi::xml_node node) {
  Endpoint endpoint;
  endpoint.entity = required_entity(node);
  endpoint.state = parse_state(node);
  endpoint.display_text = child_text(node, "display-text");
  if (auto status = child(node, "status")) {
    auto text = trim(status.child_value());
    endpoint.status = status_from(text);
    if (!endpoint.status) throw ParseError{"unknown endpoint status '" + std::string(text) + "'"};
  }
  endpoint.joining_method = child_token(node, "joining-method");
  endpoint.joining_when = child_token(child(node, "joining-info"), "when");
  endpoint.disconnection_method = child_token(node, "disconnection-method");
  if (auto media = child(node, "media")) {
    endpoint.media_id = trim(media.attribute("id").value());
    endpoint.media_type = child_token(media, "type");
    endpoint.media_status = child_token(media, "status");
  }
  return endpoint;
}

User parse_user(pugi::xml_node node) {
  User user;
  user.entity = required_entity(node);
  user.state = parse_state(node);
  user.display_text = child_text(node, "display-text");
  for (auto endpoint : node.children()) {
    if (!is_element(endpoint, "endpoint")) continue;
    if (user.endpoints.size() == kMaxEndpointsPerUser) throw ParseError{"too many endpoints in user " + user.entity};
    user.endpoints.push_back(parse_endpoint(endpoint));
  }
  return user;
}

ConferenceInfo parse_root(pugi::xml_node root) {
  if (!is_element(root, "conference-info")) {
    throw ParseError{std::string("root is not conference-info in ") + kNamespace + ": '" + root.name() + "'"};
  }
  ConferenceInfo info;
  info.entity = required_entity(root);
  auto version = root.attribute("version");
  if (!version) throw ParseError{"conference-info has no version"};
  info.version = parse_unsigned(version.value(), "version");
  info.state = parse_state(root);

  if (auto description = child(root, "conference-description")) {
    info.display_text = child_text(description, "display-text");
    if (info.display_text.empty()) info.display_text = child_text(description, "subject");
    for (auto entry : child(description, "conf-uris").children()) {
      if (!is_element(entry, "entry")) continue;
      if (auto uri = child_token(entry, "uri"); !uri.empty()) info.conf_uris.push_back(std::move(uri));
    }
    info.maximum_user_count = optional_unsigned(description, "maximum-user-count");
  }
  if (auto state = child(root, "conference-state")) {
    info.user_count = optional_unsigned(state, "user-count");
    info.active = optional_bool(state, "active");
    info.locked = optional_bool(state, "locked");
  }
  for (auto user : child(root, "users").children()) {
    if (!is_element(user, "user")) continue;
    if (info.users.size() == kMaxUsers) throw ParseError{"too many users"};
    info.users.push_back(parse_user(user));
  }
  return info;
}

}  // namespace

std::string_view status_name(EndpointStatus status) {
  for (const auto& [value, name] : kStatusNames) {
    if (value == status) return name;
  }
  return "pending";
}

std::optional<EndpointStatus> status_from(std::string_view name) {
  for (const auto& [value, known] : kStatusNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

std::string_view state_name(ElementState state) {
  switch (state) {
    case ElementState::Full: return "full";
    case ElementState::Partial: return "partial";
    case ElementState::Deleted: return "deleted";
  }
  return "full";
}

std::optional<ElementState> state_from(std::string_view name) {
  if (name == "full") return ElementState::Full;
  if (name == "partial") return ElementState::Partial;
  if (name == "deleted") return ElementState::Deleted;
  return std::nullopt;
}

std::string render(const ConferenceInfo& info) {
  pugi::xml_document doc;
  render_into(doc, info, info.version);
  return to_string(doc);
}

DocumentTemplate::DocumentTemplate(const ConferenceInfo& info) {
  pugi::xml_document doc;
  render_into(doc, info, 0);
  std::string whole = to_string(doc);
  // The root's attributes come before any content, and quotes inside attribute
  // values are escaped, so the first ` version="` is the root's version.
  constexpr std::string_view kMarker = " version=\"0\"";
  auto at = whole.find(kMarker, kXmlDeclaration.size());
  auto split = at + kMarker.size() - 2;  // just after the opening quote
  head_ = whole.substr(0, split);
  tail_ = whole.substr(split + 1);
}

std::string DocumentTemplate::with_version(uint32_t version) const {
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, version);
  std::string out;
  out.reserve(head_.size() + static_cast<size_t>(end - digits) + tail_.size());
  out.append(head_).append(digits, end).append(tail_);
  return out;
}

std::optional<ConferenceInfo> parse(std::string_view xml, std::string* error) {
  auto fail = [error](std::string message) -> std::optional<ConferenceInfo> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  try {
    if (xml.size() > kMaxDocumentBytes) return fail("document too large");
    if (xml.find("<!DOCTYPE") != std::string_view::npos || xml.find("<!ENTITY") != std::string_view::npos) {
      return fail("DOCTYPE and ENTITY declarations are not allowed");
    }
    pugi::xml_document doc;
    auto result = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!result) return fail(std::string("malformed XML: ") + result.description());
    pugi::xml_node root;
    for (auto node : doc.children()) {
      if (node.type() != pugi::node_element) continue;
      if (root) return fail("more than one root element");
      root = node;
    }
    if (!root) return fail("no root element");
    return parse_root(root);
  } catch (const ParseError& e) {
    return fail(e.message);
  } catch (...) {
    return fail("out of memory");
  }
}

}  // namespace confab::conference_events
