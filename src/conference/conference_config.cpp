#include "conference/conference_config.h"

#include "base/toml_file.h"
#include "sip/uri.h"

#include <stdexcept>

namespace confab::conference {

namespace {

template <typename T>
void read_count(const toml::node_view<toml::node>& table, const char* key, T& out) {
  auto node = table[key];
  if (!node) return;
  auto v = node.value<int64_t>();
  if (!v || *v < 0) throw std::runtime_error(std::string("conference.") + key + " must be a non-negative integer");
  out = static_cast<T>(*v);
}

}  // namespace

void load_conference_config(const std::string& path, ConferenceConfig& c) {
  toml::table root = base::parse_toml_file(path);
  auto t = root["conference"];
  if (!t) return;
  try {
    for (auto& s : base::toml_strings(t["listen"], "conference.listen")) {
      auto spec = sip::ListenSpec::parse(s);
      if (!spec) throw std::runtime_error("conference.listen: bad address '" + s + "'");
      c.listen.push_back(*spec);
    }
    for (auto& d : base::toml_strings(t["domains"], "conference.domains")) c.domains.push_back(d);
    if (auto v = t["mixer"].value<std::string>()) c.mixer = *v;
    if (auto node = t["outbound_proxy"]) {
      auto v = node.value<std::string>();
      if (!v || !sip::is_sip_uri(*v))
        throw std::runtime_error("conference.outbound_proxy must be a sip: or sips: URI, e.g. \"sip:10.0.0.4:5060\"");
      c.outbound_proxy = *v;
    }
    if (auto v = t["admin_token"].value<std::string>()) c.admin_token = *v;
    read_count(t, "max_participants", c.max_participants);
    read_count(t, "max_conferences", c.max_conferences);
    read_count(t, "max_subscribers", c.max_subscribers);
    read_count(t, "max_subscription_expires", c.max_subscription_expires);
    read_count(t, "notify_interval_ms", c.notify_interval_ms);
    read_count(t, "transaction_timeout_ms", c.transaction_timeout_ms);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace confab::conference
