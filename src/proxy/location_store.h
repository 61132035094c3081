// Where registered users can be reached: bindings of an address-of-record to
// contact URIs (RFC 3261 section 10), kept in memory and written through to SQLite.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/sqlite.h"

namespace confab::proxy {

struct Binding {
  std::string aor;          // canonical "user@domain"
  std::string contact;      // the Contact URI as registered
  std::string contact_key;  // canonical form used to compare contacts (see canonical_contact)
  double q = 1.0;
  int64_t expires_at = 0;   // unix seconds
  std::string call_id;
  uint32_t cseq = 0;
  std::string source;       // "udp:1.2.3.4:5060", where the REGISTER came from
  std::string user_agent;
  std::string path;         // Path header value (RFC 3327), if any
};

class LocationStore {
 public:
  virtual ~LocationStore() = default;
  // Live bindings of `aor` at `now`, highest q first.
  virtual std::vector<Binding> lookup(const std::string& aor, int64_t now) const = 0;
  virtual void upsert(const Binding& binding) = 0;
  virtual void remove(const std::string& aor, const std::string& contact_key) = 0;
  virtual void remove_all(const std::string& aor) = 0;
  // Drops expired bindings; returns how many.
  virtual size_t purge_expired(int64_t now) = 0;
  // Every live binding (for listings).
  virtual std::vector<Binding> all(int64_t now) const = 0;
};

// The embedded default: an in-memory index for lookups, SQLite (WAL) as the
// durable copy, reloaded at start so a restart keeps every live registration.
class SqliteLocationStore final : public LocationStore {
 public:
  explicit SqliteLocationStore(const std::string& path);
  std::vector<Binding> lookup(const std::string& aor, int64_t now) const override;
  void upsert(const Binding& binding) override;
  void remove(const std::string& aor, const std::string& contact_key) override;
  void remove_all(const std::string& aor) override;
  size_t purge_expired(int64_t now) override;
  std::vector<Binding> all(int64_t now) const override;

 private:
  void load();
  base::SqliteDatabase db_;
  base::SqliteStatement upsert_, remove_, remove_all_, purge_;
  std::unordered_map<std::string, std::vector<Binding>> by_aor_;
};

// Reads the bindings table of a database without loading it as the owner
// (used by `confab proxy --list` while a proxy runs). Never creates the file:
// throws base::SqliteError "no database at PATH" when there is none.
std::vector<Binding> read_bindings(const std::string& path, int64_t now);

// Now in unix seconds, the clock of every expiry here.
int64_t unix_now();

// Canonical form of a contact URI for comparing registrations: scheme, user,
// lower-case host, port (default filled in) and transport.
std::string canonical_contact(const std::string& uri);

}  // namespace confab::proxy
