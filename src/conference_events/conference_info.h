// The RFC 4575 conference event package document (application/conference-info+xml)
// as plain values: render it (once per change, stamped per subscriber with that
// subscription's version) and parse it (hardened: size and count limits, no DTDs).
// Only the parts Confab uses are modelled; unknown elements are ignored on parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::conference_events {

inline constexpr const char* kContentType = "application/conference-info+xml";
inline constexpr const char* kNamespace = "urn:ietf:params:xml:ns:conference-info";
inline constexpr size_t kMaxDocumentBytes = 1024 * 1024;
inline constexpr size_t kMaxUsers = 10000;
inline constexpr size_t kMaxEndpointsPerUser = 100;

// <status> of an endpoint (RFC 4575 section 5.7.2).
enum class EndpointStatus {
  Pending,
  DialingOut,
  DialingIn,
  Alerting,
  OnHold,
  Connected,
  MutedViaFocus,
  Disconnecting,
  Disconnected
};
std::string_view status_name(EndpointStatus status);  // "pending", "dialing-out", ..., "disconnected"
std::optional<EndpointStatus> status_from(std::string_view name);

// The "state" attribute of conference-info, users, user and endpoint (section 4.6).
enum class ElementState { Full, Partial, Deleted };
std::string_view state_name(ElementState state);  // "full", "partial", "deleted"
std::optional<ElementState> state_from(std::string_view name);

struct Endpoint {
  std::string entity;
  ElementState state = ElementState::Full;
  std::string display_text;
  std::optional<EndpointStatus> status;
  std::string joining_method;        // "dialed-in" | "dialed-out" | "focus-owner" or empty
  std::string joining_when;          // xs:dateTime or empty (<joining-info><when>)
  std::string disconnection_method;  // "departed" | "booted" | "failed" | "busy" or empty
  // The first <media> of the endpoint; omitted when all three are empty.
  std::string media_id;
  std::string media_type;    // "audio"
  std::string media_status;  // "sendrecv" etc., empty for none
};

struct User {
  std::string entity;
  ElementState state = ElementState::Full;
  std::string display_text;
  std::vector<Endpoint> endpoints;
};

struct ConferenceInfo {
  std::string entity;  // conference URI, required
  ElementState state = ElementState::Full;
  uint32_t version = 0;
  // <conference-description>, omitted from the document when all empty/unset.
  std::string display_text;  // <display-text> (on parse, <subject> if there is no display-text)
  std::vector<std::string> conf_uris;
  std::optional<uint32_t> maximum_user_count;
  // <conference-state>, omitted when all unset.
  std::optional<uint32_t> user_count;
  std::optional<bool> active;
  std::optional<bool> locked;
  // <users> is omitted when empty and state != Full; with Full it is always
  // present (may be empty). In a partial document it carries state="partial".
  std::vector<User> users;
};

// The whole document: XML declaration, then the conference-info element.
std::string render(const ConferenceInfo& info);

// A document rendered once and stamped per subscriber with that subscription's
// version (each subscription has its own version counter in RFC 4575), so
// notifying N subscribers costs one render plus N string concatenations.
class DocumentTemplate {
 public:
  explicit DocumentTemplate(const ConferenceInfo& info);
  // Equal to render() of the same info with `version` set.
  std::string with_version(uint32_t version) const;

 private:
  std::string head_;  // up to and including version="
  std::string tail_;  // from the closing quote of version on
};

// nullopt for anything that is not a well-formed conference-info document in
// the RFC 4575 namespace within the limits above (reason in *error if given).
// Never throws.
std::optional<ConferenceInfo> parse(std::string_view xml, std::string* error = nullptr);

}  // namespace confab::conference_events
