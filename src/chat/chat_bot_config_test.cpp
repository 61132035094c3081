#include "chat/chat_bot_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace confab::chat;

namespace {
std::string write_file(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("chat_bot_config_test_" + std::to_string(getpid()) + name);
  std::ofstream(path) << text;
  return path.string();
}
ChatBotConfig valid() {
  ChatBotConfig c;
  c.jid = "bot@example.org";
  c.password_file = "/x";
  c.room = "team@conference.example.org";
  c.conference_host = "conf.example.org";
  return c;
}
}  // namespace

TEST(ChatBotConfig, ReadsTheTable) {
  auto path = write_file("a.toml", R"(
[chat_bot]
jid = "bot@example.org"
password_file = "/etc/pw"
room = "team@conference.example.org"
nick = "voice"
conference_host = "conf.example.org:5080"
xmpp_server = "127.0.0.1:5222"
sip = "127.0.0.1:5099"
require_tls = true
posts_per_second = 2.5
idle_seconds = 3
[chat_bot.addresses]
"Alice@Example.org" = "sip:alice@pbx.example.org"
"Bob" = "sip:bob@pbx.example.org"
)");
  ChatBotConfig c;
  load_chat_bot_config(path, c);
  EXPECT_EQ(c.jid, "bot@example.org");
  EXPECT_EQ(c.password_file, "/etc/pw");
  EXPECT_EQ(c.room, "team@conference.example.org");
  EXPECT_EQ(c.nick, "voice");
  EXPECT_EQ(c.conference_host, "conf.example.org:5080");
  ASSERT_TRUE(c.xmpp_server);
  EXPECT_EQ(c.xmpp_server->str(), "127.0.0.1:5222");
  EXPECT_EQ(c.sip.str(), "127.0.0.1:5099");
  EXPECT_TRUE(c.require_tls);
  EXPECT_DOUBLE_EQ(c.posts_per_second, 2.5);
  EXPECT_EQ(c.idle_seconds, 3u);
  EXPECT_EQ(c.addresses.at("alice@example.org"), "sip:alice@pbx.example.org");  // JIDs compared in lower case
  EXPECT_EQ(c.addresses.at("Bob"), "sip:bob@pbx.example.org");                 // nicks as written
  EXPECT_NO_THROW(check_chat_bot_config(c));
  std::filesystem::remove(path);
}

TEST(ChatBotConfig, BadValuesNameFileAndKey) {
  struct Case {
    std::string toml, says;
  };
  for (auto& [toml, says] : std::vector<Case>{
           {"[chat_bot]\nposts_per_second = 100\n", "chat_bot.posts_per_second"},
           {"[chat_bot]\nidle_seconds = 0\n", "chat_bot.idle_seconds"},
           {"[chat_bot]\nxmpp_server = \"nohost\"\n", "chat_bot.xmpp_server"},
           {"[chat_bot]\njid = 5\n", "chat_bot.jid"},
           {"[chat_bot.addresses]\n\"a@b\" = \"javascript:alert(1)\"\n", "chat_bot.addresses.a@b"},
           {"[chat_bot]\naddresses = 3\n", "chat_bot.addresses"},
           {"[chat_bot\n", ":1:10: Error while parsing table header"},
           {"[chat_bot]\nidle_secs = 5\n", ":2: chat_bot.idle_secs: unknown key (did you mean 'idle_seconds'?)"},
           {"[chatbot]\n", ":1: chatbot: unknown table (did you mean [chat_bot]?)"},
       }) {
    auto path = write_file("b.toml", toml);
    ChatBotConfig c;
    try {
      load_chat_bot_config(path, c);
      ADD_FAILURE() << "accepted: " << toml;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
  }
}

TEST(ChatBotConfig, ChecksWhatIsRequired) {
  EXPECT_NO_THROW(check_chat_bot_config(valid()));
  auto c = valid();
  c.jid = "bot";
  EXPECT_THROW(check_chat_bot_config(c), std::invalid_argument);
  c = valid();
  c.jid = "bot@example.org/res";
  EXPECT_THROW(check_chat_bot_config(c), std::invalid_argument);
  c = valid();
  c.room = "team";
  EXPECT_THROW(check_chat_bot_config(c), std::invalid_argument);
  c = valid();
  c.conference_host = "";
  EXPECT_THROW(check_chat_bot_config(c), std::invalid_argument);
  c = valid();
  c.password_file = "";
  EXPECT_THROW(check_chat_bot_config(c), std::invalid_argument);
  c = valid();
  c.nick = "a/b";
  EXPECT_THROW(check_chat_bot_config(c), std::invalid_argument);
}

