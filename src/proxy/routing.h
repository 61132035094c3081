// Which requests the proxy answers for, and where the others go.
//
// The proxy serves its own listen addresses and the configured domains.
// A request for a served domain goes to the user's registered contacts; a user
// that is not registered gets 404 unless a static route names a host for the
// domain. A request for any other domain is forwarded to that domain's host:
// the static route if one is configured (--route DOMAIN=HOST:PORT), otherwise
// RFC 3263 (NAPTR/SRV/A) on the Request-URI. This is how ad-hoc conference
// URIs reach the conference server with nobody registering them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proxy/location_store.h"
#include "sip/uri.h"

namespace confab::proxy {

struct LocalAddress {
  std::string host;
  uint16_t port = 5060;
};

class DomainPolicy {
 public:
  // `routes` maps a domain (lower case) to "host:port" or "host:port;transport=tcp".
  DomainPolicy(std::vector<std::string> domains, std::map<std::string, std::string> routes,
               std::vector<LocalAddress> local);

  // True if `uri` names one of our domains or addresses.
  bool serves(const sip::Uri& uri) const;
  // True if `uri` points at this proxy itself (one of its listen addresses).
  bool is_local(const sip::Uri& uri) const;
  // Canonical address-of-record key "user@domain" for a served URI.
  std::string aor(const sip::Uri& uri) const;
  // Static next hop for the URI's domain ("sip:host:port"), if configured.
  std::optional<std::string> static_route(const sip::Uri& uri) const;

 private:
  std::string canonical_domain(const sip::Uri& uri) const;
  std::vector<std::string> domains_;
  std::map<std::string, std::string> routes_;
  std::vector<LocalAddress> local_;
};

struct RoutingDecision {
  enum class Kind {
    Registered,  // fork to `bindings`
    Forward,     // send to `next_hop` (empty: RFC 3263 on the Request-URI)
    NotFound,    // 404: our domain, nobody registered, no static route
    Self,        // addressed to the proxy itself (no user part)
  };
  Kind kind = Kind::NotFound;
  std::vector<Binding> bindings;
  std::string next_hop;
};

RoutingDecision decide_route(const DomainPolicy& policy, const LocationStore& store, const sip::Uri& request_uri,
                             int64_t now);

}  // namespace confab::proxy
