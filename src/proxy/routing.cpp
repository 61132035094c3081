#include "proxy/routing.h"

#include <algorithm>
#include <cctype>

namespace confab::proxy {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

DomainPolicy::DomainPolicy(std::vector<std::string> domains, std::map<std::string, std::string> routes,
                           std::vector<LocalAddress> local)
    : routes_(), local_(std::move(local)) {
  for (auto& d : domains) domains_.push_back(lower(d));
  for (auto& [d, hop] : routes) routes_[lower(d)] = hop;
}

bool DomainPolicy::is_local(const sip::Uri& uri) const {
  std::string host = lower(uri.host());
  if (host == "localhost") host = "127.0.0.1";
  uint16_t port = uri.port_or_default();
  for (auto& a : local_)
    if (lower(a.host) == host && a.port == port) return true;
  return false;
}

bool DomainPolicy::serves(const sip::Uri& uri) const {
  if (is_local(uri)) return true;
  return std::find(domains_.begin(), domains_.end(), lower(uri.host())) != domains_.end();
}

std::string DomainPolicy::canonical_domain(const sip::Uri& uri) const {
  if (is_local(uri)) {
    if (!domains_.empty()) return domains_.front();
    return local_.empty() ? lower(uri.host()) : lower(local_.front().host);
  }
  return lower(uri.host());
}

std::string DomainPolicy::aor(const sip::Uri& uri) const { return uri.user() + "@" + canonical_domain(uri); }

std::optional<std::string> DomainPolicy::static_route(const sip::Uri& uri) const {
  auto it = routes_.find(lower(uri.host()));
  if (it == routes_.end()) return std::nullopt;
  return "sip:" + it->second;
}

RoutingDecision decide_route(const DomainPolicy& policy, const LocationStore& store, const sip::Uri& ruri,
                             int64_t now) {
  RoutingDecision d;
  if (policy.serves(ruri)) {
    if (ruri.user().empty()) {
      d.kind = RoutingDecision::Kind::Self;
      return d;
    }
    d.bindings = store.lookup(policy.aor(ruri), now);
    if (!d.bindings.empty()) {
      d.kind = RoutingDecision::Kind::Registered;
      return d;
    }
    if (auto hop = policy.static_route(ruri); hop && !policy.is_local(ruri)) {
      d.kind = RoutingDecision::Kind::Forward;
      d.next_hop = *hop;
      return d;
    }
    d.kind = RoutingDecision::Kind::NotFound;
    return d;
  }
  d.kind = RoutingDecision::Kind::Forward;
  if (auto hop = policy.static_route(ruri)) d.next_hop = *hop;
  return d;
}

}  // namespace confab::proxy
