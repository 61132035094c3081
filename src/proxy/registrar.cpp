#include "proxy/registrar.h"

#include <algorithm>

#include "sip/uri.h"

namespace confab::proxy {

namespace {

RegisterResult error(int status, std::string reason) {
  RegisterResult r;
  r.status = status;
  r.reason = std::move(reason);
  return r;
}

// A binding of the same Call-ID with a CSeq at least as high means this REGISTER is stale.
bool out_of_order(const Binding& existing, const RegisterRequest& req) {
  return existing.call_id == req.call_id && req.cseq <= existing.cseq;
}

}  // namespace

RegisterResult Registrar::process(const RegisterRequest& req, int64_t now) {
  auto current = store_.lookup(req.aor, now);

  // Wildcard: "Contact: *" with "Expires: 0" removes every binding (RFC 3261 10.3 step 6).
  bool star = std::any_of(req.contacts.begin(), req.contacts.end(), [](auto& c) { return c.star; });
  if (star) {
    if (req.contacts.size() != 1 || req.expires_header != 0)
      return error(400, "Invalid wildcard Contact (needs to be alone with Expires: 0)");
    for (auto& b : current)
      if (out_of_order(b, req)) return error(500, "Out of order REGISTER");
    store_.remove_all(req.aor);
    return RegisterResult{};
  }

  // Validate every contact and work out its expiry before changing anything.
  struct Change {
    std::string uri, key;
    int64_t expires;
    double q;
  };
  std::vector<Change> changes;
  for (auto& c : req.contacts) {
    if (!sip::Uri::parse(c.uri)) return error(400, "Invalid Contact URI");
    int64_t expires = c.expires.value_or(req.expires_header.value_or(policy_.default_expires));
    if (expires > 0 && expires < policy_.min_expires) {
      auto r = error(423, "Interval Too Brief");
      r.min_expires = policy_.min_expires;
      return r;
    }
    expires = std::min(expires, policy_.max_expires);
    auto key = canonical_contact(c.uri);
    for (auto& b : current)
      if (b.contact_key == key && out_of_order(b, req)) return error(500, "Out of order REGISTER");
    changes.push_back({c.uri, key, expires, c.q.value_or(1.0)});
  }

  size_t after = current.size();
  for (auto& ch : changes) {
    bool exists = std::any_of(current.begin(), current.end(), [&](auto& b) { return b.contact_key == ch.key; });
    if (ch.expires == 0 && exists) --after;
    if (ch.expires > 0 && !exists) ++after;
  }
  if (after > policy_.max_contacts) return error(403, "Too many registered contacts");

  for (auto& ch : changes) {
    if (ch.expires == 0) {
      store_.remove(req.aor, ch.key);
      continue;
    }
    Binding b;
    b.aor = req.aor;
    b.contact = ch.uri;
    b.contact_key = ch.key;
    b.q = ch.q;
    b.expires_at = now + ch.expires;
    b.call_id = req.call_id;
    b.cseq = req.cseq;
    b.source = req.source;
    b.user_agent = req.user_agent;
    b.path = req.path;
    store_.upsert(b);
  }
  RegisterResult r;
  r.bindings = store_.lookup(req.aor, now);
  return r;
}

std::vector<std::string> contact_values(const std::vector<Binding>& bindings, int64_t now) {
  std::vector<std::string> out;
  for (auto& b : bindings) {
    std::string v = "<" + b.contact + ">;expires=" + std::to_string(std::max<int64_t>(0, b.expires_at - now));
    if (b.q != 1.0) {
      char q[16];
      std::snprintf(q, sizeof q, "%.3g", b.q);
      v += std::string(";q=") + q;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace confab::proxy
