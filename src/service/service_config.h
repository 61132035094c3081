// Settings of `confab service`: the user's SIP identity, the devices, where the
// API listens. From ~/.config/confab/service.toml (docs/deployment.md) and the
// command line. The per-user files the service keeps are in service/paths.h.
#pragma once

#include <string>
#include <vector>

#include "base/ip_network.h"
#include "service/devices/device.h"
#include "sip/transaction_layer.h"

namespace confab::base {
struct ConfigSetting;  // base/toml_file.h
}  // namespace confab::base

namespace confab::service {

struct ServiceConfig {
  std::vector<sip::ListenSpec> sip_listen;  // default udp:127.0.0.1:5062
  std::string identity;                     // our From; default sip:$USER@<first listen address>
  std::string proxy;                        // outbound proxy for every request, "" for none
  bool register_at_proxy = false;           // REGISTER the identity at the proxy
  std::string password;                     // for digest challenges
  std::string conference_server = "127.0.0.1:5080";  // ad-hoc conferences: sip:<user>-<random>@this
  std::string default_device;               // used when a request names none
  std::string incoming_device;              // rings for calls to the identity; "" default_device, "off" none
  std::vector<base::IpNetwork> incoming_from;  // if set, only INVITEs from these networks ring (others: 403)
  std::string tel_gateway;                  // HOST[:PORT] that tel: targets go to (sip:<digits>@it;user=phone)
  std::vector<DeviceConfig> devices;
  std::string api_socket;  // default <runtime dir>/service.sock
  std::string api_tcp = "127.0.0.1:5065";  // HOST:PORT (port 0: any free one); "" or "off": no TCP API
  std::string token_file;  // default <runtime dir>/token
  std::string web_api = "127.0.0.1:5066";  // WebSocket API and device chooser page; "" or "off": none
  std::string origins_file;  // approved web origins; default ~/.config/confab/approved-origins
  unsigned choice_timeout_s = 120;  // how long an ExternalJoin waits for the user to pick a device
  unsigned transaction_timeout_ms = 32000;  // how long a request waits for its final response
  unsigned keepalive_s = 30;  // in-dialog OPTIONS to both legs of a loop-mode call; 0: off
  unsigned leave_grace_s = 10;  // a web page's call ends this long after its origin's last page closed; 0: never
  std::string plugin_dir;  // shared objects loaded at start (service/plugin.h); "" for none
  std::string sip_trace;   // pcap file of every SIP message (sip::SipTrace); "" for none
};

// Every setting of service.toml and the option that sets it too: the keys the
// loader accepts, the "[file: KEY]" of `confab service --help`.
const std::vector<base::ConfigSetting>& service_settings();

// Reads [service] and [devices.<id>] tables into `config`, keeping what the
// file does not set. Throws std::runtime_error naming the file, line, key and
// reason (an unknown key or table among them).
void load_service_config(const std::string& path, ServiceConfig& config);
// "10.0.0.0/8", "192.0.2.7", ...; throws naming `what` and the bad entry.
std::vector<base::IpNetwork> parse_networks(const std::vector<std::string>& texts, const std::string& what);
// Fills in what was left unset (SIP address, identity, API socket and token
// paths) and checks what needs no device: throws std::runtime_error (or
// std::invalid_argument) saying which setting is wrong and how to write it.
// "off" for api_tcp or web_api becomes "".
void complete_service_config(ServiceConfig& config);
// complete_service_config, and the devices made as at start (each checks its
// kind's settings), the default and incoming devices known: all `confab service
// --check-config` can check without opening sockets. Throws std::runtime_error.
void check_service_config(ServiceConfig& config);

}  // namespace confab::service
