// Settings of `confab proxy`, from the command line and/or a TOML file.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "proxy/registrar.h"
#include "sip/transaction_layer.h"

namespace confab::base {
struct ConfigSetting;  // base/toml_file.h
}  // namespace confab::base

namespace confab::proxy {

struct ProxyConfig {
  std::vector<sip::ListenSpec> listen;
  std::string db_path = "confab-proxy.db";
  std::vector<std::string> domains;
  std::map<std::string, std::string> routes;  // domain -> host:port[;transport=tcp]
  RegistrarPolicy registrar;
  bool record_route = true;
  // Digest authentication (off by default: loopback demo).
  bool auth_register = false;
  bool auth_invite = false;
  // Algorithms offered in challenges. MD5 alone by default, as Kamailio does:
  // Debian 12's baresip (libre 1.1) and SIPp 3.6 fail on any SHA-256 challenge.
  std::vector<std::string> auth_algorithms{"MD5"};
  std::string realm;  // defaults to the first domain, else the first listen host
  int64_t nonce_ttl = 300;
  size_t max_message_size = 65536;
  // Timers B/F/H/J (RFC 3261 says 64*T1 = 32 s). 5 s, as Kamailio's tm timers,
  // keeps finished transactions' memory ~6x lower at thousands of calls/s; an
  // INVITE that has been answered provisionally is limited by Timer C (185 s) instead.
  unsigned transaction_timeout_ms = 5000;
  std::string metrics;  // HOST:PORT of GET /metrics (Prometheus); empty: off
  std::string control;  // the control socket's path (`confab ctl proxy`); empty: none
  std::string sip_trace;  // pcap file of every SIP message (sip::SipTrace); empty: off
  std::string resolv_conf;  // empty: /etc/resolv.conf (the fuzz harness's own; not a setting)
};

// Every setting of the [proxy] table and the option that sets it too: the keys
// the loader accepts, the "[file: KEY]" of `confab proxy --help` (docs/deployment.md).
const std::vector<base::ConfigSetting>& proxy_settings();

// Reads a TOML file ([proxy] table, see docs/deployment.md) into `config`,
// keeping values the file does not set. Throws std::runtime_error with the
// file, line, key and reason on a bad file, an unknown key or table among them.
void load_proxy_config(const std::string& path, ProxyConfig& config);

// What the file alone cannot check (after the options were merged): digest
// algorithms and registrar expiries in order. Throws std::invalid_argument.
void check_proxy_config(const ProxyConfig& config);

// Parses "DOMAIN=HOST:PORT" into routes; throws on a malformed value.
void add_route(ProxyConfig& config, const std::string& spec);

}  // namespace confab::proxy
