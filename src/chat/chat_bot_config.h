// Settings of `confab chat-bot`, from the command line and/or the [chat_bot]
// table of a TOML file (the command line wins):
//
//   [chat_bot]
//   jid = "bot@example.org"
//   password_file = "/etc/confab/chat-bot.password"
//   room = "team@conference.example.org"
//   nick = "confab"
//   conference_host = "conf.example.org"     # HOST[:PORT] of `confab conference`
//   xmpp_server = "xmpp.example.org:5222"    # default: the JID's domain (DNS SRV)
//   require_tls = true
//   sip = "127.0.0.1:5079"                   # the bot's SIP user agent (SUBSCRIBE, REFER)
//   posts_per_second = 3
//   idle_seconds = 600                       # a voice room nobody is in is closed after this
//
//   [chat_bot.addresses]                     # who `/voice invite NICK` rings
//   "alice@example.org" = "sip:alice@pbx.example.org"   # by real JID (non-anonymous rooms)
//   "Bob" = "sip:bob@pbx.example.org"                   # by nick (only when the room hides JIDs)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/host_port.h"

namespace confab::base {
struct ConfigSetting;  // base/toml_file.h
}  // namespace confab::base

namespace confab::chat {

struct ChatBotConfig {
  std::string jid;
  std::string password_file;
  std::string room;
  std::string nick = "confab";
  std::string conference_host;  // "host[:port]" as in a SIP URI
  std::optional<base::HostPort> xmpp_server;
  bool require_tls = false;
  base::HostPort sip{"127.0.0.1", 5079};
  double posts_per_second = 3.0;
  unsigned idle_seconds = 600;
  std::string sip_trace;  // pcap file of every SIP message (sip::SipTrace); empty: off
  // Bare JID (lower case) or nick -> SIP URI.
  std::map<std::string, std::string> addresses;
};

// Every setting of the [chat_bot] table and the option that sets it too: the
// keys the loader accepts, the "[file: KEY]" of `confab chat-bot --help`.
const std::vector<base::ConfigSetting>& chat_bot_settings();

// Reads the [chat_bot] table of a TOML file into `config`, keeping what the
// file does not set. Throws std::runtime_error naming the file, line, key and
// reason (an unknown key or table among them).
void load_chat_bot_config(const std::string& path, ChatBotConfig& config);
// Adds who (a JID or nick) -> sip: URI to the addresses; throws std::invalid_argument.
void add_address(ChatBotConfig& config, const std::string& who, const std::string& uri);
// Throws std::invalid_argument naming what is missing or wrong (a JID that is
// not user@domain, a room that is not room@service, no conference host, ...).
void check_chat_bot_config(const ChatBotConfig& config);

}  // namespace confab::chat
