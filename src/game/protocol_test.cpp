#include "game/protocol.h"

#include <gtest/gtest.h>

using namespace confab::game;

namespace {

ProtocolError error_of(const std::string& text) {
  ProtocolError e;
  EXPECT_FALSE(parse_client_message(text, e)) << text;
  return e;
}

}  // namespace

TEST(Protocol, ParsesEveryClientMessage) {
  ProtocolError e;
  auto join = parse_client_message(R"({"type":"join","name":"Ann","sip":"sip:ann@127.0.0.1:5062"})", e);
  ASSERT_TRUE(join);
  EXPECT_EQ(std::get<JoinRequest>(*join).name, "Ann");
  EXPECT_EQ(std::get<JoinRequest>(*join).sip, "sip:ann@127.0.0.1:5062");
  auto move = parse_client_message(R"({"type":"move","dx":1,"dy":-0.5})", e);
  ASSERT_TRUE(move);
  EXPECT_EQ(std::get<MoveRequest>(*move).dx, 1);
  EXPECT_EQ(std::get<MoveRequest>(*move).dy, -0.5);
  auto go = parse_client_message(R"({"dx":0,"type":"goto","x":40,"y":12})", e);
  EXPECT_FALSE(go);  // a field of another message
  go = parse_client_message(R"({"y":12.25,"x":40,"type":"goto"})", e);
  ASSERT_TRUE(go);
  EXPECT_EQ(std::get<GotoRequest>(*go).x, 40);
  EXPECT_EQ(std::get<GotoRequest>(*go).y, 12.25);
  EXPECT_TRUE(std::holds_alternative<CallAgainRequest>(*parse_client_message(R"({"type":"call_again"})", e)));
  EXPECT_TRUE(std::holds_alternative<LeaveRequest>(*parse_client_message(R"({"type":"leave"})", e)));
  auto unicode = parse_client_message(R"({"type":"join","name":"Zoë \ud83c\udfb2 東京"})", e);
  ASSERT_TRUE(unicode);
  EXPECT_EQ(std::get<JoinRequest>(*unicode).sip, "");  // optional here; the world decides if it is needed
}

TEST(Protocol, WritesClientMessagesBackAsTheyParse) {
  for (const char* text : {R"({"type":"join","name":"Ann","sip":"sip:ann@h"})", R"({"type":"join","name":"Ann"})",
                           R"({"type":"move","dx":-0.7071,"dy":1})", R"({"type":"goto","x":12.5,"y":0})",
                           R"({"type":"call_again"})", R"({"type":"leave"})"}) {
    ProtocolError e;
    auto m = parse_client_message(text, e);
    ASSERT_TRUE(m) << text << ": " << e.reason;
    EXPECT_EQ(to_json(*m), text);
  }
}

TEST(Protocol, RefusesHostileAndMalformedMessages) {
  struct Case {
    std::string text;
    int code;
    const char* reason;
  };
  const Case cases[] = {
      {"", 400, "malformed JSON"},
      {"{\"type\":\"move\",\"dx\":1,", 400, "malformed JSON"},
      {"[1,2]", 400, "a message must be a JSON object with a \"type\""},
      {"{}", 400, "a message needs \"type\": join, move, goto, call_again or leave"},
      {R"({"type":7})", 400, "a message needs \"type\""},
      {R"({"type":"fly"})", 400, "unknown message type \"fly\" (join, move, goto, call_again, leave)"},
      {R"({"type":"move","dx":1})", 400, "a move message needs \"dy\" (a number)"},
      {R"({"type":"move","dx":"1","dy":0})", 400, "\"dx\" must be a number"},
      {R"({"type":"move","dx":1e300,"dy":0})", 400, "\"dx\" must be a number from -1000000 to 1000000"},
      {R"({"type":"goto","x":1,"y":-2e6})", 400, "\"y\" must be a number from -1000000 to 1000000"},
      {R"({"type":"goto","x":1,"y":2,"z":3})", 400, "unknown field \"z\" in a goto message"},
      {R"({"type":"leave","now":true})", 400, "unknown field \"now\" in a leave message"},
      {R"({"type":"join"})", 400, "\"name\" must be 1-32 printable characters"},
      {R"({"type":"join","name":""})", 400, "\"name\" must be 1-32"},
      {R"({"type":"join","name":" Ann"})", 400, "\"name\" must be 1-32"},
      {R"({"type":"join","name":"Ann\n"})", 400, "\"name\" must be 1-32"},
      {R"({"type":"join","name":"A\u0000B"})", 400, "\"name\" must be 1-32"},
      {R"({"type":"join","name":"A\u202eB"})", 400, "\"name\" must be 1-32"},  // bidi override
      {R"({"type":"join","name":"A\u200bB"})", 400, "\"name\" must be 1-32"},  // zero width space
      {R"({"type":"join","name":"abcdefghijklmnopqrstuvwxyzabcdefg"})", 400, "\"name\" must be 1-32"},
      {R"({"type":"join","name":["Ann"]})", 400, "\"name\" must be a string"},
      {R"({"type":"join","name":"Ann","sip":5})", 400, "\"sip\" must be a string"},
      {R"({"type":"join","name":"Ann","sip":")" + std::string(300, 'a') + "\"}", 400,
       "\"sip\" is longer than 256 bytes"},
      {R"({"type":"join","name":{"a":{"b":{"c":{"d":1}}}}})", 400, "malformed JSON"},  // too deep
      {"{\"type\":\"join\",\"name\":\"\xff\"}", 400, "malformed JSON"},  // not UTF-8
      {"{\"type\":\"leave\",\"pad\":\"" + std::string(5000, 'x') + "\"}", 413, "message larger than 4096 bytes"},
  };
  for (auto& c : cases) {
    auto e = error_of(c.text);
    EXPECT_EQ(e.code, c.code) << c.text;
    EXPECT_EQ(e.reason.rfind(c.reason, 0), 0u) << c.text << " -> " << e.reason;
  }
  // A long unknown type is cut, at a character boundary.
  auto e = error_of(R"({"type":")" + std::string(39, 'x') + "é" + R"("})");
  EXPECT_NE(e.reason.find(std::string(39, 'x') + "\""), std::string::npos) << e.reason;
}

TEST(Protocol, NamesAreOneToThirtyTwoPrintableCharacters) {
  EXPECT_TRUE(valid_player_name("A"));
  EXPECT_TRUE(valid_player_name(std::string(32, 'a')));
  std::string wide;
  for (int i = 0; i < 32; ++i) wide += "東";
  EXPECT_TRUE(valid_player_name(wide));  // 32 characters, 96 bytes
  EXPECT_FALSE(valid_player_name(wide + "東"));
  EXPECT_FALSE(valid_player_name(std::string(33, 'a')));
  EXPECT_TRUE(valid_player_name("Ann Lee"));
  EXPECT_FALSE(valid_player_name("Ann "));
  EXPECT_FALSE(valid_player_name("\x7f"));
  EXPECT_FALSE(valid_player_name("\xc2\x85"));      // NEL
  EXPECT_FALSE(valid_player_name("\xef\xbb\xbf"));  // BOM
  EXPECT_FALSE(valid_player_name("\xc0\xaf"));      // overlong
  EXPECT_FALSE(valid_player_name("\xe6\x9d"));      // cut short
}

TEST(Protocol, WritesServerMessages) {
  World w = default_world("127.0.0.1:5080");
  EXPECT_EQ(welcome_message("p1", w),
            R"({"type":"welcome","id":"p1","world":{"name":"world","width":100,"height":100,"speed":5,"tick_ms":50,)"
            R"("voice":"server","proximity_m":10,"proximity_db_at_line":-6,"max_players_per_zone":50,"zones":[)"
            R"({"name":"nw","x":0,"y":0,"width":50,"height":50,"conference":"sip:world-nw@127.0.0.1:5080","max_players":50},)"
            R"({"name":"ne","x":50,"y":0,"width":50,"height":50,"conference":"sip:world-ne@127.0.0.1:5080","max_players":50},)"
            R"({"name":"sw","x":0,"y":50,"width":50,"height":50,"conference":"sip:world-sw@127.0.0.1:5080","max_players":50},)"
            R"({"name":"se","x":50,"y":50,"width":50,"height":50,"conference":"sip:world-se@127.0.0.1:5080","max_players":50}]}})");
  w.voice = VoiceMode::client;
  EXPECT_NE(world_json(w).find(R"("voice":"client","proximity_m":0,)"), std::string::npos);
  EXPECT_EQ(error_message(409, "the name 'Ann' is \"taken\""),
            R"({"type":"error","code":409,"reason":"the name 'Ann' is \"taken\""})");
  std::string you =
      state_you({"p1", "nw", "sip:world-nw@h", 12.3456, 40, {"failed", "486 Busy"}, {{"nw", 0}, {"ne", -12.345}}});
  EXPECT_EQ(you, R"({"id":"p1","x":12.35,"y":40,"zone":"nw","conference":"sip:world-nw@h",)"
                 R"("voice":{"state":"failed","reason":"486 Busy"},"hears":[{"zone":"nw","db":0},{"zone":"ne","db":-12.3}]})");
  EXPECT_EQ(player_card({"p2", "B\"o\nb", "on"}), R"("p2":{"name":"B\"o\nb","voice":"on"})");
  std::string nw = zone_positions({{"p1", 12.3456, 40}, {"p3", -0.001, 99.999}});
  EXPECT_EQ(nw, R"([["p1",12.35,40],["p3",0,100]])");
  EXPECT_EQ(zone_positions({}), "[]");
  EXPECT_EQ(roster_json({"sip:ann@h", "sip:\"x\"@h"}), R"(["sip:ann@h","sip:\"x\"@h"])");
  EXPECT_EQ(roster_json({}), "[]");
  StateParts parts;
  parts.you = you;
  EXPECT_EQ(state_message(parts), R"({"type":"state","you":)" + you + "}");  // only "you"
  std::string card = player_card({"p1", "Ann", "on"});
  parts.players = card;
  parts.left = R"("p2","p4")";
  parts.zones = {{"nw", nw}, {"ne", "[]"}};
  parts.rosters = {{"nw", R"(["sip:ann@h"])"}};
  EXPECT_EQ(state_message(parts), R"({"type":"state","players":{"p1":{"name":"Ann","voice":"on"}},"left":["p2","p4"],)"
                                  R"("zones":{"nw":[["p1",12.35,40],["p3",0,100]],"ne":[]},"rosters":{"nw":["sip:ann@h"]},)"
                                  R"("you":)" + you + "}");
}
