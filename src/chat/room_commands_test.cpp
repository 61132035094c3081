#include "chat/room_commands.h"

#include <gtest/gtest.h>

using namespace confab::chat;
using Kind = RoomCommand::Kind;

namespace {
RoomCommand parsed(std::string_view body) {
  auto c = parse_room_command(body);
  EXPECT_TRUE(c) << body;
  return c.value_or(RoomCommand{});
}
}  // namespace

TEST(RoomCommands, MessagesNotForTheBot) {
  for (auto body : {"hello", "", "  ", "/voicemail", "/voices", "voice", "see /voice", "/VOICE", "/me waves"})
    EXPECT_FALSE(parse_room_command(body)) << body;
}

TEST(RoomCommands, Open) {
  auto c = parsed("/voice");
  EXPECT_EQ(c.kind, Kind::open);
  EXPECT_EQ(c.argument, "");
  c = parsed("  /voice   standup \n");
  EXPECT_EQ(c.kind, Kind::open);
  EXPECT_EQ(c.argument, "standup");
  c = parsed("/voice team-7_a.b~c+d");
  EXPECT_EQ(c.kind, Kind::open);
  EXPECT_EQ(c.argument, "team-7_a.b~c+d");
}

TEST(RoomCommands, WhoHelpInvite) {
  EXPECT_EQ(parsed("/voice who").kind, Kind::who);
  EXPECT_EQ(parsed("/voice help").kind, Kind::help);
  auto c = parsed("/voice invite Bob");
  EXPECT_EQ(c.kind, Kind::invite);
  EXPECT_EQ(c.argument, "Bob");
  c = parsed("/voice invite  Anna Maria ");  // MUC nicks may hold spaces
  EXPECT_EQ(c.kind, Kind::invite);
  EXPECT_EQ(c.argument, "Anna Maria");
  c = parsed("/voice invite Zoë 🎧");
  EXPECT_EQ(c.argument, "Zoë 🎧");
}

TEST(RoomCommands, BadOnesSayWhy) {
  for (auto body : {"/voice invite", "/voice invite   ", "/voice who me", "/voice a b", "/voice <b>x</b>",
                    "/voice sip:x@y", "/voice caf\xc3\xa9", "/voice javascript:alert(1)"}) {
    auto c = parsed(body);
    EXPECT_EQ(c.kind, Kind::bad) << body;
    EXPECT_FALSE(c.argument.empty()) << body;
  }
  EXPECT_EQ(parsed("/voice " + std::string(65, 'a')).kind, Kind::bad);
  EXPECT_EQ(parsed("/voice " + std::string(64, 'a')).kind, Kind::open);
  auto huge = "/voice invite " + std::string(1 << 20, 'x');
  EXPECT_EQ(parsed(huge).kind, Kind::bad);
}

TEST(RoomCommands, RoomTextKeepsOrdinaryText) {
  EXPECT_EQ(room_text("Bob"), "Bob");
  EXPECT_EQ(room_text("Zoë 🎧 日本"), "Zoë 🎧 日本");
  EXPECT_EQ(room_text("<b>&amp;</b>"), "<b>&amp;</b>");  // escaping is XML's job, not ours
}

TEST(RoomCommands, RoomTextDropsWhatHidesOrBreaks) {
  EXPECT_EQ(room_text("a\nb\tc\x01" "d\x7f"), "abcd");
  EXPECT_EQ(room_text("evil\u202Egnp.exe"), "evilgnp.exe");       // right-to-left override
  EXPECT_EQ(room_text("a\u200Bb\u2066c\u2069\uFEFF"), "abc");      // zero width, isolates, BOM
  EXPECT_EQ(room_text("x\xC2\x85y"), "xy");                        // C1 control (NEL)
  EXPECT_EQ(room_text("\xff\xfe" "ok"), "\uFFFD\uFFFDok");         // invalid UTF-8
  EXPECT_EQ(room_text("\xC0\xAF"), "\uFFFD\uFFFD");                // overlong '/'
  EXPECT_EQ(room_text("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");      // a surrogate
  EXPECT_EQ(room_text("abc\xE2\x82"), "abc\uFFFD\uFFFD");          // cut short
}

TEST(RoomCommands, RoomTextIsBounded) {
  EXPECT_EQ(room_text(std::string(100, 'a'), 10), std::string(10, 'a') + "\u2026");
  EXPECT_EQ(room_text("ééééé", 3), "ééé\u2026");
  std::string huge(1 << 20, 'x');
  EXPECT_LE(room_text(huge).size(), 64u + 3u);
}
