#include "chat/chat_bot_config.h"

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

}  // namespace

const std::vector<base::ConfigSetting>& chat_bot_settings() {
  static const std::vector<base::ConfigSetting> settings = {
      {"chat_bot.jid", "--jid"},
      {"chat_bot.password_file", "--password-file"},
      {"chat_bot.room", "--room"},
      {"chat_bot.nick", "--nick"},
      {"chat_bot.conference_host", "--conference-host"},
      {"chat_bot.xmpp_server", "--xmpp-server"},
      {"chat_bot.require_tls", "--require-tls"},
      {"chat_bot.sip", "--sip"},
      {"chat_bot.posts_per_second", "--posts-per-second"},
      {"chat_bot.idle_seconds", "--idle-seconds"},
      {"chat_bot.addresses.*", "--address"},
      {"chat_bot.sip_trace", "--sip-trace"},
  };
  return settings;
}

void add_address(ChatBotConfig& c, const std::string& who, const std::string& uri) {
  if (who.empty()) throw std::invalid_argument("an address needs a JID or nick");
  if (!sip::is_sip_uri(uri)) throw std::invalid_argument("the address of '" + who + "' must be a sip: or sips: URI, not '" + uri + "'");
  c.addresses[bare_jid(who) ? lower(who) : who] = uri;
}

void load_chat_bot_config(const std::string& path, ChatBotConfig& c) {
  toml::table root = base::parse_toml_file(path);
  base::reject_unknown_keys(path, root, chat_bot_settings());
  auto t = base::TomlTable(path, root, "").table("chat_bot");
  if (auto v = t.string("jid")) c.jid = *v;
  if (auto v = t.string("password_file")) c.password_file = *v;
  if (auto v = t.string("room")) c.room = *v;
  if (auto v = t.string("nick")) c.nick = *v;
  if (auto v = t.string("conference_host")) {
    try {
      c.conference_host = sip::parse_conference_host(*v);
    } catch (const std::exception& e) {
      t.fail("conference_host", e.what());
    }
  }
  auto host_port = [&](const char* key, const std::string& text) {
    auto hp = base::split_host_port(text);
    if (!hp) t.fail(key, "must be HOST:PORT, e.g. \"127.0.0.1:5222\", not \"" + text + "\"");
    return *hp;
  };
  if (auto v = t.string("xmpp_server")) c.xmpp_server = host_port("xmpp_server", *v);
  if (auto v = t.string("sip")) c.sip = host_port("sip", *v);
  if (auto v = t.boolean("require_tls")) c.require_tls = *v;
  if (auto v = t.string("sip_trace")) c.sip_trace = *v;
  c.posts_per_second = t.number("posts_per_second", c.posts_per_second, 0.1, 20, " posts/s");
  c.idle_seconds = static_cast<unsigned>(t.integer("idle_seconds", c.idle_seconds, 1, 24 * 3600, " s"));
  auto addresses = t.table("addresses");
  for (auto& [key, value] : addresses.items()) {
    std::string who(key.str());
    auto uri = addresses.string(who);
    if (!sip::is_sip_uri(*uri)) addresses.fail(who, "must be a sip: or sips: URI, not \"" + *uri + "\"");
    add_address(c, who, *uri);
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


}  // namespace confab::chat
