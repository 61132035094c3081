// confab chat-bot: an XMPP chat room that knows its voice room.
#include "base/log.h"
#include "base/secret_input.h"
#include "chat/chat_bot.h"
#include "chat/chat_bot_config.h"
#include "cli/commands.h"
#include "sip/event_loop.h"
#include "sip/uri.h"

namespace confab::cli {

namespace {

struct ChatBotArgs {
  std::string config_file;
  std::string jid, password_file, room, nick, conference_host, xmpp_server, sip;
  bool require_tls = false;
  double posts_per_second = 0;
  unsigned idle_seconds = 0;
  std::vector<std::string> addresses;
  std::string check_config;
  std::string sip_trace;
};

chat::ChatBotConfig chat_bot_config(const ChatBotArgs& a) {
  chat::ChatBotConfig c;
  if (!a.check_config.empty()) chat::load_chat_bot_config(a.check_config, c);
  if (!a.config_file.empty()) chat::load_chat_bot_config(a.config_file, c);
  if (!a.jid.empty()) c.jid = a.jid;
  if (!a.password_file.empty()) c.password_file = a.password_file;
  if (!a.room.empty()) c.room = a.room;
  if (!a.nick.empty()) c.nick = a.nick;
  if (!a.conference_host.empty()) c.conference_host = sip::parse_conference_host(a.conference_host);
  if (!a.xmpp_server.empty()) c.xmpp_server = base::parse_host_port(a.xmpp_server, "--xmpp-server");
  if (!a.sip.empty()) c.sip = base::parse_host_port(a.sip, "--sip");
  if (a.require_tls) c.require_tls = true;
  if (a.posts_per_second > 0) c.posts_per_second = a.posts_per_second;
  if (a.idle_seconds) c.idle_seconds = a.idle_seconds;
  if (!a.sip_trace.empty()) c.sip_trace = a.sip_trace;
  for (auto& entry : a.addresses) {
    auto eq = entry.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("--address wants JID-OR-NICK=SIP-URI, not '" + entry + "'");
    chat::add_address(c, entry.substr(0, eq), entry.substr(eq + 1));
  }
  chat::check_chat_bot_config(c);
  return c;
}

}  // namespace

void add_chat_bot_command(CLI::App& app, const GlobalOptions& global, Runner& runner) {
  auto a = std::make_shared<ChatBotArgs>();
  auto* cmd = app.add_subcommand("chat-bot", "XMPP chat-room bot: /voice opens a voice room, tells who joins and left");
  cmd->add_option("--config", a->config_file, "TOML file with a [chat_bot] table (see docs/deployment.md)");
  cmd->add_option("--jid", a->jid, "the bot's XMPP account, e.g. bot@example.org");
  cmd->add_option("--password-file", a->password_file, "file holding the account's password");
  cmd->add_option("--room", a->room, "the multi-user chat room to join, e.g. team@conference.example.org");
  cmd->add_option("--nick", a->nick, "the bot's nick in the room (default confab)");
  cmd->add_option("--conference-host", a->conference_host,
                  "HOST[:PORT] of the conference server: voice rooms are sip:<name>@it");
  cmd->add_option("--xmpp-server", a->xmpp_server, "HOST:PORT of the XMPP server (default: the JID's domain, DNS SRV)");
  cmd->add_flag("--require-tls", a->require_tls, "refuse an XMPP server that does not offer TLS");
  cmd->add_option("--sip", a->sip, "HOST:PORT of the bot's SIP user agent (rosters, REFERs; default 127.0.0.1:5079)");
  cmd->add_option("--posts-per-second", a->posts_per_second, "most posts the bot makes in the room a second (default 3)")
      ->check(CLI::Range(0.1, 20.0));
  cmd->add_option("--idle-seconds", a->idle_seconds, "a voice room nobody has been in for this long is closed (default 600)")
      ->check(CLI::Range(1u, 86400u));
  cmd->add_option("--address", a->addresses,
                  "JID-OR-NICK=SIP-URI: who `/voice invite NICK` rings (a real JID, or a nick in rooms that hide "
                  "JIDs; repeatable)");
  add_sip_trace_option(*cmd, a->sip_trace);
  add_check_config_option(*cmd, a->check_config);
  note_file_keys(*cmd, chat::chat_bot_settings());
  cmd->callback([a, &global, &runner] {
    runner = [a, &global]() -> int {
      if (a->check_config.empty()) base::init_logging("chat-bot", global.log_level);
      chat::ChatBotConfig c = chat_bot_config(*a);
      std::string password = base::read_secret_file(c.password_file, "--password-file");
      if (!a->check_config.empty()) return config_ok(a->check_config);
      auto trace = start_sip_trace(c.sip_trace);
      sip::EventLoop loop;
      chat::ChatBotTiming timing;
      timing.idle = std::chrono::seconds(c.idle_seconds);
      chat::ChatBot bot(loop, c, std::move(password), timing);
      stop_on_signals([&loop] { loop.stop(); });
      loop.run();
      return 0;
    };
  });
}

}  // namespace confab::cli
