#include "conference/conference_config.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

using confab::conference::ConferenceConfig;
using confab::conference::load_conference_config;

namespace {

std::string write_file(const std::string& text) {
  char name[] = "/tmp/confab-conference-config-XXXXXX";
  int fd = mkstemp(name);
  if (fd >= 0) ::close(fd);
  std::ofstream(name) << text;
  return name;
}

}  // namespace

TEST(ConferenceConfig, ReadsTheConferenceTable) {
  auto path = write_file(
      "[conference]\nlisten = [\"udp:127.0.0.1:5085\"]\nmixer = \"sip:10.0.0.2:5090\"\n"
      "domains = [\"conf.example.com\"]\nmax_participants = 7\nmax_conferences = 3\nmax_subscribers = 9\n"
      "max_subscription_expires = 60\nnotify_interval_ms = 20\nadmin_token = \"t\"\n"
      "outbound_proxy = \"sip:10.0.0.4:5060;transport=tcp\"\nadmin = \"127.0.0.1:5081\"\n"
      "transaction_timeout_ms = 8000\n");
  ConferenceConfig c;
  load_conference_config(path, c);
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].port, 5085);
  EXPECT_EQ(c.mixer, "sip:10.0.0.2:5090");
  EXPECT_EQ(c.domains, std::vector<std::string>{"conf.example.com"});
  EXPECT_EQ(c.max_participants, 7u);
  EXPECT_EQ(c.max_conferences, 3u);
  EXPECT_EQ(c.max_subscribers, 9u);
  EXPECT_EQ(c.max_subscription_expires, 60u);
  EXPECT_EQ(c.notify_interval_ms, 20u);
  EXPECT_EQ(c.admin_token, "t");
  EXPECT_EQ(c.outbound_proxy, "sip:10.0.0.4:5060;transport=tcp");
  EXPECT_EQ(c.admin_host, "127.0.0.1");
  EXPECT_EQ(c.admin_port, 5081);
  EXPECT_EQ(c.transaction_timeout_ms, 8000u);
  std::remove(path.c_str());
}

TEST(ConferenceConfig, KeepsDefaultsForWhatTheFileDoesNotSay) {
  auto path = write_file("[conference]\nmax_conferences = 9\n");
  ConferenceConfig c;
  load_conference_config(path, c);
  EXPECT_EQ(c.max_participants, 100u);
  EXPECT_EQ(c.mixer, "sip:127.0.0.1:5090");
  EXPECT_EQ(c.outbound_proxy, "");
  std::remove(path.c_str());
}

TEST(ConferenceConfig, BadValuesNameTheFileAndKey) {
  for (const char* text : {"[conference]\nmax_participants = -1\n", "[conference]\nmax_conferences = \"many\"\n",
                           "[conference]\nlisten = [42]\n", "[conference]\nlisten = [\"udp:127.0.0.1:99999\"]\n", "[conference\n",
                           "[conference]\noutbound_proxy = \"http://proxy\"\n", "[conference]\noutbound_proxy = 5060\n"}) {
    auto path = write_file(text);
    ConferenceConfig c;
    try {
      load_conference_config(path, c);
      ADD_FAILURE() << "accepted: " << std::string(text).substr(13);
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    std::remove(path.c_str());
  }
}

TEST(ConferenceConfig, UnknownKeysAndTablesAreRefusedWithTheNearestKnownOne) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (auto& [text, error] : std::vector<Case>{
           // The mistakes that left the admin API open and dropped a whole table.
           {"[conference]\nadmin = \"127.0.0.1:5081\"\nadmin_tokn = \"s3cret\"\n",
            ":3: conference.admin_tokn: unknown key (did you mean 'admin_token'?)"},
           {"[conferences]\nmax_participants = 5\n", ":1: conferences: unknown table (did you mean [conference]?)"},
           {"[conference]\nadmin = \"5081\"\n", ":2: conference.admin: must be HOST:PORT, e.g. \"127.0.0.1:5081\", not \"5081\""},
       }) {
    auto path = write_file(text);
    ConferenceConfig c;
    try {
      load_conference_config(path, c);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), path + error);
    }
    std::remove(path.c_str());
  }
}
