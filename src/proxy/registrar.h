// RFC 3261 section 10.3: what a REGISTER does to the bindings of one
// address-of-record. Pure logic over a LocationStore, so it is unit-tested
// without a network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxy/location_store.h"
#include "sip/message.h"

namespace confab::proxy {

struct RegistrarPolicy {
  int64_t min_expires = 60;
  int64_t max_expires = 3600;
  int64_t default_expires = 3600;
  size_t max_contacts = 16;  // per address-of-record
};

struct RegisterRequest {
  std::string aor;
  std::vector<sip::ContactField> contacts;
  std::optional<int64_t> expires_header;
  std::string call_id;
  uint32_t cseq = 0;
  std::string source;
  std::string user_agent;
  std::string path;
};

struct RegisterResult {
  int status = 200;
  std::string reason = "OK";
  std::vector<Binding> bindings;         // the AOR's bindings after the request (for 200)
  std::optional<int64_t> min_expires;    // for 423
};

class Registrar {
 public:
  Registrar(LocationStore& store, RegistrarPolicy policy) : store_(store), policy_(policy) {}
  RegisterResult process(const RegisterRequest& request, int64_t now);
  std::vector<Binding> lookup(const std::string& aor, int64_t now) const { return store_.lookup(aor, now); }
  const RegistrarPolicy& policy() const { return policy_; }
  void set_policy(const RegistrarPolicy& policy) { policy_ = policy; }

 private:
  LocationStore& store_;
  RegistrarPolicy policy_;
};

// The Contact header values of a 200 OK to REGISTER: each binding with its remaining expiry.
std::vector<std::string> contact_values(const std::vector<Binding>& bindings, int64_t now);

}  // namespace confab::proxy
