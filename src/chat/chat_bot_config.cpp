#include "chat/chat_bot_config.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/toml_file.h"
#include "sip/uri.h"

namespace confab::chat {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// user@domain with no resource, white space or second '@'.
bool bare_jid(const std::string& jid) {
  auto at = jid.find('@');
  return at != std::string::npos && at > 0 && at + 1 < jid.size() && jid.find('@', at + 1) == std::string::npos &&
         jid.find('/') == std::string::npos && jid.find_first_of(" \t\r\n") == std::string::npos;
}

std::string string_setting(const toml::node_view<toml::node>& t, const char* key) {
  auto v = t[key].value<std::string>();
  if (!v) throw std::runtime_error(std::string("chat_bot.") + key + " must be a string");
  return *v;
}

}  // namespace

void load_chat_bot_config(const std::string& path, ChatBotConfig& c) {
  toml::table root = base::parse_toml_file(path);
  auto t = root["chat_bot"];
  if (!t) return;
  try {
    if (t["jid"]) c.jid = string_setting(t, "jid");
    if (t["password_file"]) c.password_file = string_setting(t, "password_file");
    if (t["room"]) c.room = string_setting(t, "room");
    if (t["nick"]) c.nick = string_setting(t, "nick");
    if (t["conference_host"])
      c.conference_host = sip::parse_conference_host(string_setting(t, "conference_host"));
    if (t["xmpp_server"]) c.xmpp_server = base::parse_host_port(string_setting(t, "xmpp_server"), "chat_bot.xmpp_server");
    if (t["sip"]) c.sip = base::parse_host_port(string_setting(t, "sip"), "chat_bot.sip");
    if (auto node = t["require_tls"]) {
      auto v = node.value<bool>();
      if (!v) throw std::runtime_error("chat_bot.require_tls must be true or false");
      c.require_tls = *v;
    }
    if (auto node = t["posts_per_second"]) {
      auto v = node.value<double>();
      if (!v || *v < 0.1 || *v > 20) throw std::runtime_error("chat_bot.posts_per_second must be from 0.1 to 20");
      c.posts_per_second = *v;
    }
    if (auto node = t["idle_seconds"]) {
      auto v = node.value<int64_t>();
      if (!v || *v < 1 || *v > 24 * 3600) throw std::runtime_error("chat_bot.idle_seconds must be from 1 to 86400");
      c.idle_seconds = static_cast<unsigned>(*v);
    }
    if (auto node = t["addresses"]) {
      auto* table = node.as_table();
      if (!table) throw std::runtime_error("chat_bot.addresses must be a table of JID or nick = \"sip:...\"");
      for (auto& [key, value] : *table) {
        std::string who(key.str());
        auto uri = value.value<std::string>();
        if (!uri || !sip::is_sip_uri(*uri))
          throw std::runtime_error("chat_bot.addresses.\"" + who + "\" must be a sip: or sips: URI");
        c.addresses[bare_jid(who) ? lower(who) : who] = *uri;
      }
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

void check_chat_bot_config(const ChatBotConfig& c) {
  if (!bare_jid(c.jid)) throw std::invalid_argument("--jid must be the bot's account, user@domain, not '" + c.jid + "'");
  if (c.password_file.empty()) throw std::invalid_argument("--password-file is required (the XMPP account's password)");
  if (!bare_jid(c.room))
    throw std::invalid_argument("--room must be the room's JID, room@conference.domain, not '" + c.room + "'");
  if (c.nick.empty() || c.nick.size() > 64 || c.nick.find_first_of("\r\n\t/") != std::string::npos)
    throw std::invalid_argument("--nick must be 1-64 characters without '/' or line breaks");
  if (c.conference_host.empty())
    throw std::invalid_argument("--conference-host is required (HOST[:PORT] of the conference server)");
}

std::string read_password_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("--password-file " + path + ": cannot be read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) throw std::runtime_error("--password-file " + path + ": is empty");
  return text.substr(first, last - first + 1);
}

}  // namespace confab::chat
