#include "proxy/location_store.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "sip/uri.h"

namespace confab::proxy {

namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS bindings ("
    " aor TEXT NOT NULL, contact_key TEXT NOT NULL, contact TEXT NOT NULL, q REAL NOT NULL,"
    " expires_at INTEGER NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL, source TEXT NOT NULL,"
    " user_agent TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (aor, contact_key))";

constexpr const char* kColumns = "aor, contact_key, contact, q, expires_at, call_id, cseq, source, user_agent, path";

Binding row_to_binding(const base::SqliteStatement& s) {
  Binding b;
  b.aor = s.text(0);
  b.contact_key = s.text(1);
  b.contact = s.text(2);
  b.q = s.real(3);
  b.expires_at = s.integer(4);
  b.call_id = s.text(5);
  b.cseq = static_cast<uint32_t>(s.integer(6));
  b.source = s.text(7);
  b.user_agent = s.text(8);
  b.path = s.text(9);
  return b;
}

base::SqliteDatabase& with_schema(base::SqliteDatabase& db) {
  db.exec(kSchema);
  return db;
}

void sort_by_q(std::vector<Binding>& v) {
  std::stable_sort(v.begin(), v.end(), [](const Binding& a, const Binding& b) { return a.q > b.q; });
}

}  // namespace

SqliteLocationStore::SqliteLocationStore(const std::string& path)
    : db_(path),
      upsert_(with_schema(db_).prepare(std::string("INSERT OR REPLACE INTO bindings (") + kColumns +
                                        ") VALUES (?,?,?,?,?,?,?,?,?,?)")),
      remove_(db_.prepare("DELETE FROM bindings WHERE aor = ? AND contact_key = ?")),
      remove_all_(db_.prepare("DELETE FROM bindings WHERE aor = ?")),
      purge_(db_.prepare("DELETE FROM bindings WHERE expires_at <= ?")) {
  load();
}

void SqliteLocationStore::load() {
  auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM bindings");
  while (s.step()) {
    Binding b = row_to_binding(s);
    by_aor_[b.aor].push_back(std::move(b));
  }
  for (auto& [aor, v] : by_aor_) sort_by_q(v);
}

std::vector<Binding> SqliteLocationStore::lookup(const std::string& aor, int64_t now) const {
  std::vector<Binding> out;
  auto it = by_aor_.find(aor);
  if (it == by_aor_.end()) return out;
  for (auto& b : it->second)
    if (b.expires_at > now) out.push_back(b);
  return out;
}

void SqliteLocationStore::upsert(const Binding& b) {
  upsert_.reset();
  upsert_.bind(1, b.aor).bind(2, b.contact_key).bind(3, b.contact).bind(4, b.q).bind(5, b.expires_at);
  upsert_.bind(6, b.call_id).bind(7, static_cast<int64_t>(b.cseq)).bind(8, b.source).bind(9, b.user_agent);
  upsert_.bind(10, b.path);
  upsert_.run();
  auto& v = by_aor_[b.aor];
  auto it = std::find_if(v.begin(), v.end(), [&](const Binding& x) { return x.contact_key == b.contact_key; });
  if (it != v.end())
    *it = b;
  else
    v.push_back(b);
  sort_by_q(v);
}

void SqliteLocationStore::remove(const std::string& aor, const std::string& contact_key) {
  remove_.reset();
  remove_.bind(1, aor).bind(2, contact_key);
  remove_.run();
  auto it = by_aor_.find(aor);
  if (it == by_aor_.end()) return;
  std::erase_if(it->second, [&](const Binding& b) { return b.contact_key == contact_key; });
  if (it->second.empty()) by_aor_.erase(it);
}

void SqliteLocationStore::remove_all(const std::string& aor) {
  remove_all_.reset();
  remove_all_.bind(1, aor);
  remove_all_.run();
  by_aor_.erase(aor);
}

size_t SqliteLocationStore::purge_expired(int64_t now) {
  purge_.reset();
  purge_.bind(1, now);
  purge_.run();
  size_t n = 0;
  for (auto it = by_aor_.begin(); it != by_aor_.end();) {
    n += std::erase_if(it->second, [&](const Binding& b) { return b.expires_at <= now; });
    it = it->second.empty() ? by_aor_.erase(it) : std::next(it);
  }
  return n;
}

std::vector<Binding> SqliteLocationStore::all(int64_t now) const {
  std::vector<Binding> out;
  for (auto& [aor, v] : by_aor_)
    for (auto& b : v)
      if (b.expires_at > now) out.push_back(b);
  std::sort(out.begin(), out.end(), [](const Binding& a, const Binding& b) { return a.aor < b.aor; });
  return out;
}

std::vector<Binding> read_bindings(const std::string& path, int64_t now) {
  base::SqliteDatabase db(path, base::SqliteDatabase::Open::ExistingOnly);
  db.exec(kSchema);
  auto s = db.prepare(std::string("SELECT ") + kColumns + " FROM bindings WHERE expires_at > ? ORDER BY aor, q DESC");
  s.bind(1, now);
  std::vector<Binding> out;
  while (s.step()) out.push_back(row_to_binding(s));
  return out;
}

std::string canonical_contact(const std::string& uri) {
  auto u = sip::Uri::parse(uri);
  if (!u) return uri;
  std::string host = u->host();
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string key = u->scheme() + ":" + u->user() + "@" + sip::host_port(host, std::to_string(u->port_or_default()));
  if (auto t = u->transport(); !t.empty() && t != "udp") key += ";transport=" + t;
  return key;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace confab::proxy
