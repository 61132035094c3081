// Settings of `confab conference`, from the command line and/or a TOML file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sip/transaction_layer.h"

namespace confab::base {
struct ConfigSetting;  // base/toml_file.h
}  // namespace confab::base

namespace confab::conference {

struct ConferenceConfig {
  std::vector<sip::ListenSpec> listen;
  std::string mixer = "sip:127.0.0.1:5090";  // where participants' media legs go
  // Outbound proxy URI of the INVITEs to users a REFER adds (RFC 4579), so users
  // registered at the proxy are reached; empty: by their URIs' hosts. Never used
  // for the legs to the mixer.
  std::string outbound_proxy;
  // Domains whose Request-URIs we accept (besides our own address); empty: any.
  std::vector<std::string> domains;
  std::string admin_host;  // empty: no admin API
  uint16_t admin_port = 0;
  std::string admin_token;  // required by the admin API when set
  std::string admin_token_file;  // where admin_token is read from (its first line)
  std::string control;           // the control socket's path (`confab ctl conference`); empty: none
  size_t max_participants = 100;  // per conference: 486 beyond
  size_t max_conferences = 1000;  // 503 beyond
  size_t max_subscribers = 500;   // per conference: 503 beyond (SUBSCRIBE floods)
  unsigned max_subscription_expires = 3600;
  // Changes within this window are sent as one partial NOTIFY per subscriber.
  unsigned notify_interval_ms = 50;
  unsigned transaction_timeout_ms = 32000;
  std::string sip_trace;  // pcap file of every SIP message (sip::SipTrace); empty: off
};

// Every setting of the [conference] table and the option that sets it too: the
// keys the loader accepts, the "[file: KEY]" of `confab conference --help`.
const std::vector<base::ConfigSetting>& conference_settings();

// Reads the [conference] table of a TOML file into `config`, keeping what the
// file does not set. Throws std::runtime_error naming the file, line, key and
// reason (an unknown key or table among them).
void load_conference_config(const std::string& path, ConferenceConfig& config);

}  // namespace confab::conference
