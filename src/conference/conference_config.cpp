#include "conference/conference_config.h"

#include "base/host_port.h"
#include "base/toml_file.h"
#include "sip/uri.h"

#include <limits>
#include <stdexcept>

namespace confab::conference {

namespace {

template <typename T>
T count(const base::TomlTable& t, const char* key, T current, int64_t lo, int64_t hi, const char* unit) {
  return static_cast<T>(t.integer(key, static_cast<int64_t>(current), lo, hi, unit));
}

}  // namespace

const std::vector<base::ConfigSetting>& conference_settings() {
  static const std::vector<base::ConfigSetting> settings = {
      {"conference.listen", "--listen"},
      {"conference.mixer", "--mixer"},
      {"conference.outbound_proxy", "--outbound-proxy"},
      {"conference.domains", "--domain"},
      {"conference.admin", "--admin"},
      {"conference.admin_token", "--admin-token"},
      {"conference.admin_token_file", "--admin-token-file"},
      {"conference.control", "--control"},
      {"conference.max_participants", "--max-participants"},
      {"conference.max_conferences", "--max-conferences"},
      {"conference.max_subscribers", "--max-subscribers"},
      {"conference.max_subscription_expires", "--max-subscription-expires"},
      {"conference.notify_interval_ms", "--notify-interval"},
      {"conference.transaction_timeout_ms", "--transaction-timeout"},
      {"conference.sip_trace", "--sip-trace"},
  };
  return settings;
}

void load_conference_config(const std::string& path, ConferenceConfig& c) {
  toml::table root = base::parse_toml_file(path);
  base::reject_unknown_keys(path, root, conference_settings());
  auto t = base::TomlTable(path, root, "").table("conference");
  if (auto listen = t.strings("listen")) {
    for (auto& s : *listen) {
      auto spec = sip::ListenSpec::parse(s);
      if (!spec) t.fail("listen", "bad address '" + s + "' (want [udp:|tcp:]HOST:PORT)");
      c.listen.push_back(*spec);
    }
  }
  if (auto domains = t.strings("domains")) c.domains.insert(c.domains.end(), domains->begin(), domains->end());
  if (auto v = t.string("mixer")) {
    if (!sip::is_sip_uri(*v)) t.fail("mixer", "must be a sip: URI, e.g. \"sip:127.0.0.1:5090\", not \"" + *v + "\"");
    c.mixer = *v;
  }
  if (auto v = t.string("outbound_proxy")) {
    if (!sip::is_sip_uri(*v))
      t.fail("outbound_proxy", "must be a sip: or sips: URI, e.g. \"sip:10.0.0.4:5060\", not \"" + *v + "\"");
    c.outbound_proxy = *v;
  }
  if (auto v = t.string("admin")) {
    auto admin = base::split_host_port(*v);
    if (!admin) t.fail("admin", "must be HOST:PORT, e.g. \"127.0.0.1:5081\", not \"" + *v + "\"");
    c.admin_host = admin->host;
    c.admin_port = admin->port;
  }
  if (auto v = t.string("admin_token")) c.admin_token = *v;
  if (auto v = t.string("admin_token_file")) c.admin_token_file = *v;
  if (auto v = t.string("control")) c.control = *v;
  if (!c.admin_token.empty() && !c.admin_token_file.empty())
    t.fail("admin_token_file", "give admin_token or admin_token_file, not both");
  if (auto v = t.string("sip_trace")) c.sip_trace = *v;
  constexpr int64_t many = std::numeric_limits<int32_t>::max();
  c.max_participants = count(t, "max_participants", c.max_participants, 0, many, "");
  c.max_conferences = count(t, "max_conferences", c.max_conferences, 0, many, "");
  c.max_subscribers = count(t, "max_subscribers", c.max_subscribers, 0, many, "");
  c.max_subscription_expires = count(t, "max_subscription_expires", c.max_subscription_expires, 0, many, " s");
  c.notify_interval_ms = count(t, "notify_interval_ms", c.notify_interval_ms, 0, 60000, " ms");
  c.transaction_timeout_ms = count(t, "transaction_timeout_ms", c.transaction_timeout_ms, 500, 600000, " ms");
}

}  // namespace confab::conference
