#include "game/game.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fmt/format.h>

using namespace confab::game;
using namespace std::chrono_literals;

namespace {

// Records what the game tells its voice, answers with set statuses and rosters.
class FakeVoice : public Voice {
 public:
  std::vector<std::string> calls;
  std::map<std::string, VoiceStatus> statuses;
  std::map<std::string, std::vector<std::string>> zone_rosters;

  void player_joined(const Player& p, const Zone& z) override { calls.push_back("joined " + p.id + " " + z.name); }
  void player_crossed(const Player& p, const Zone& from, const Zone& to) override {
    calls.push_back("crossed " + p.id + " " + from.name + ">" + to.name);
  }
  void player_hears(const Player& p, const std::vector<std::pair<const Zone*, double>>& zones) override {
    std::string s = "hears " + p.id;
    for (auto& [z, db] : zones) s += fmt::format(" {}:{:.0f}", z->name, db);
    calls.push_back(s);
  }
  void player_left(const Player& p) override { calls.push_back("left " + p.id); }
  void call_again(const Player& p) override { calls.push_back("again " + p.id); }
  VoiceStatus status(const std::string& id) const override {
    auto it = statuses.find(id);
    return it == statuses.end() ? VoiceStatus{} : it->second;
  }
  std::map<std::string, std::vector<std::string>> rosters() const override { return zone_rosters; }

  // The calls so far, then forgets them.
  std::vector<std::string> take() { return std::exchange(calls, {}); }
};

struct Sent {
  uint64_t connection;
  boost::json::object message;  // empty when only closed
  bool close;
};

struct GameTest : ::testing::Test {
  World world = default_world("127.0.0.1:5080");
  FakeVoice voice;
  std::vector<Sent> sent;
  Game::Clock::time_point now = Game::Clock::now();
  Game game{world, voice,
            [this](uint64_t c, const std::string& text, bool close) {
              boost::json::object o;
              if (!text.empty()) o = boost::json::parse(text).as_object();
              sent.push_back({c, o, close});
            },
            10s, 7};

  std::vector<Sent> take() { return std::exchange(sent, {}); }
  void receive(uint64_t c, const std::string& text) {
    ProtocolError e;
    auto m = parse_client_message(text, e);
    ASSERT_TRUE(m) << e.reason;
    game.receive(c, *m);
  }
  // Opens connection `c` and joins as `name`; returns the player id.
  std::string join(uint64_t c, const std::string& name) {
    game.open(c, now);
    receive(c, fmt::format(R"({{"type":"join","name":"{}","sip":"sip:{}@127.0.0.1"}})", name, name));
    auto s = take();
    EXPECT_EQ(s.size(), 1u);
    EXPECT_EQ(s.at(0).message.at("type"), "welcome");
    return std::string(s.at(0).message.at("id").as_string());
  }
  const Player& player(const std::string& id) { return *game.simulation().player(id); }
};

}  // namespace

TEST_F(GameTest, AJoinIsWelcomedToldToTheVoiceAndStatesFollowChanges) {
  std::string ann = join(1, "Ann");
  EXPECT_EQ(voice.take(), std::vector<std::string>{"joined p1 " + player(ann).zone->name});
  game.tick(0.05, now);
  auto s = take();
  ASSERT_EQ(s.size(), 1u);
  auto& state = s[0].message;
  EXPECT_EQ(state.at("type"), "state");
  EXPECT_EQ(state.at("players").at("p1").at("name"), "Ann");  // every card in its first state
  EXPECT_EQ(state.at("zones").at("nw").at(0).at(0), "p1");
  auto& you = state.at("you").as_object();
  EXPECT_EQ(you.at("id"), "p1");
  EXPECT_EQ(you.at("zone"), "nw");
  EXPECT_EQ(you.at("conference"), "sip:world-nw@127.0.0.1:5080");
  EXPECT_EQ(you.at("voice").at("state"), "off");
  EXPECT_EQ(you.at("hears").as_array().size(), 1u);  // its own zone
  game.tick(0.05, now);
  EXPECT_TRUE(take().empty());  // nothing changed: nothing sent
  join(2, "Bob");
  voice.statuses["p2"] = {"on", ""};
  voice.zone_rosters["ne"] = {"sip:Bob@127.0.0.1"};
  game.tick(0.05, now);
  s = take();
  ASSERT_EQ(s.size(), 2u);  // both see Bob
  for (auto& m : s) {
    EXPECT_EQ(m.message.at("players").at("p2").at("voice"), "on");
    EXPECT_EQ(m.message.at("zones").at("ne").at(0).at(0), "p2");
  }
  EXPECT_EQ(s[0].message.at("players").as_object().size(), 1u);  // Ann knew her own card
  EXPECT_EQ(s[1].message.at("players").as_object().size(), 2u);  // Bob's first state: every card
  EXPECT_FALSE(s[0].message.contains("rosters"));                 // ne's roster: for who is in ne or hears it
  EXPECT_EQ(s[1].message.at("rosters").at("ne").at(0), "sip:Bob@127.0.0.1");
  voice.statuses["p2"] = {"failed", "486 Busy"};
  game.tick(0.05, now);
  s = take();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].message.at("players").at("p2").at("voice"), "failed");
  EXPECT_FALSE(s[0].message.contains("zones"));  // nobody moved
  game.closed(2);
  game.tick(0.05, now);
  s = take();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].message.at("left").at(0), "p2");
  EXPECT_EQ(s[0].message.at("zones").at("ne").as_array().size(), 0u);
}

TEST_F(GameTest, MovesCrossZonesAndTellTheVoiceWhatPlayersHear) {
  std::string ann = join(1, "Ann");
  voice.take();
  receive(1, R"({"type":"goto","x":48,"y":25})");
  for (int i = 0; i < 100; ++i) game.tick(0.05, now);
  EXPECT_EQ(player(ann).x, 48);
  auto calls = voice.take();
  ASSERT_FALSE(calls.empty());
  auto db = [](const std::string& call) { return std::stod(call.substr(call.rfind(':') + 1)); };
  EXPECT_EQ(calls.front().rfind("hears p1 ne:", 0), 0u);
  EXPECT_LE(db(calls.front()), -58);       // first heard just inside 10 m
  EXPECT_NEAR(db(calls.back()), -16.8, 1.5);  // 2 m from the line: -6 - 54 * 0.2
  receive(1, R"({"type":"goto","x":48,"y":10})");  // along the line: the same gain, nothing to tell
  for (int i = 0; i < 100; ++i) game.tick(0.05, now);
  EXPECT_EQ(player(ann).y, 10);
  EXPECT_TRUE(voice.take().empty());
  take();
  receive(1, R"({"type":"move","dx":1,"dy":0})");
  for (int i = 0; i < 10; ++i) game.tick(0.05, now);  // 2.5 m east: over the line
  calls = voice.take();
  EXPECT_NE(std::find(calls.begin(), calls.end(), "crossed p1 nw>ne"), calls.end());
  EXPECT_EQ(player(ann).zone->name, "ne");
  auto s = take();
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.back().message.at("you").at("zone"), "ne");
  auto hears = s.back().message.at("you").at("hears").as_array();
  ASSERT_EQ(hears.size(), 2u);
  EXPECT_EQ(hears[0].at("zone"), "ne");
  EXPECT_EQ(hears[1].at("zone"), "nw");
  receive(1, R"({"type":"move","dx":0,"dy":0})");
  double x = player(ann).x;
  game.tick(0.05, now);
  EXPECT_EQ(player(ann).x, x);
  receive(1, R"({"type":"call_again"})");
  EXPECT_EQ(voice.take(), std::vector<std::string>{"again p1"});
}

TEST_F(GameTest, RefusalsCloseOnlyThatConnection) {
  std::string ann = join(1, "Ann");
  game.open(2, now);
  receive(2, R"({"type":"move","dx":1,"dy":0})");  // before joining
  auto s = take();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].connection, 2u);
  EXPECT_EQ(s[0].message.at("code"), 400);
  EXPECT_TRUE(s[0].close);
  receive(2, R"({"type":"join","name":"Bob","sip":"sip:bob@h"})");  // closing: ignored
  EXPECT_TRUE(take().empty());
  game.open(3, now);
  receive(3, R"({"type":"join","name":"aNN","sip":"sip:x@h"})");
  s = take();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].message.at("code"), 409);
  EXPECT_TRUE(s[0].close);
  game.open(4, now);
  receive(4, R"({"type":"join","name":"Cy","sip":"cy@h"})");
  EXPECT_EQ(take().at(0).message.at("code"), 400);
  voice.take();
  receive(1, R"({"type":"join","name":"Ann2","sip":"sip:ann2@h"})");  // joined already
  s = take();
  EXPECT_EQ(s.at(0).message.at("code"), 400);
  EXPECT_EQ(voice.take(), std::vector<std::string>{"left p1"});  // refused: its player is gone
  EXPECT_EQ(game.simulation().players().size(), 0u);
  game.refuse(5, 400, "no such connection");  // nothing happens
  EXPECT_TRUE(take().empty());
}

TEST_F(GameTest, ConnectionsThatDoNotJoinInTimeAreClosed) {
  game.open(1, now);
  join(2, "Ann");
  game.tick(0.05, now + 9s);
  take();
  game.tick(0.05, now + 10s);
  auto s = take();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].connection, 1u);
  EXPECT_EQ(s[0].message.at("code"), 408);
  EXPECT_EQ(s[0].message.at("reason"), "no join within 10 s");
  EXPECT_TRUE(s[0].close);
}

TEST_F(GameTest, PlayersLeaveByMessageOrByClosing) {
  join(1, "Ann");
  join(2, "Bob");
  voice.take();
  receive(1, R"({"type":"leave"})");
  auto s = take();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_TRUE(s[0].message.empty());
  EXPECT_TRUE(s[0].close);
  game.closed(2);
  EXPECT_EQ(voice.take(), (std::vector<std::string>{"left p1", "left p2"}));
  game.closed(1);
  EXPECT_EQ(game.connections(), 0u);
  EXPECT_TRUE(voice.take().empty());
  join(3, "Cy");
  voice.take();
  game.leave_all();
  EXPECT_EQ(voice.take(), std::vector<std::string>{"left p3"});
}

TEST(Game, HearsChangedMeansAnotherZoneOrMoreThanOneDb) {
  World w = default_world("");
  const Zone* ne = &w.zones[1];
  const Zone* sw = &w.zones[2];
  EXPECT_FALSE(Game::hears_changed({}, {}));
  EXPECT_TRUE(Game::hears_changed({}, {{ne, -59}}));
  EXPECT_FALSE(Game::hears_changed({{ne, -20}}, {{ne, -20.9}}));
  EXPECT_TRUE(Game::hears_changed({{ne, -20}}, {{ne, -21.1}}));
  EXPECT_TRUE(Game::hears_changed({{ne, -20}}, {{sw, -20}}));
  EXPECT_TRUE(Game::hears_changed({{ne, -20}}, {}));
}

TEST_F(GameTest, BotsJoinWithTheirVoiceAndWanderOnTheirOwn) {
  EXPECT_TRUE(game.add_bot("Bot1", "sip:bot1@127.0.0.1:5190", now));
  EXPECT_FALSE(game.add_bot("bot1", "sip:other@127.0.0.1:5191", now));  // the name is taken
  auto calls = voice.take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].rfind("joined p1 ", 0), 0u) << calls[0];
  const Player& bot = player("p1");
  double x = bot.x, y = bot.y;
  double walked = 0;
  for (int i = 0; i < 200; ++i) {  // 10 s of ticks
    now += 50ms;
    double bx = bot.x, by = bot.y;
    game.tick(0.05, now);
    walked += std::hypot(bot.x - bx, bot.y - by);
  }
  EXPECT_GT(walked, 10.0) << "the bot stood still at (" << x << ", " << y << ")";
  EXPECT_LE(walked, world.speed * 10.0 + 1e-6);  // never faster than anyone
  for (auto& s : take()) EXPECT_LT(s.connection, uint64_t{1} << 62) << "something was sent to the bot";
}

TEST_F(GameTest, WithManyPlayersEachClientFollowsItsZoneEveryTickAndTheOthersLessOften) {
  // 150 players, all walking: a client gets the zones it is in or hears every
  // tick, the other zones every 150 / 25 = 6 ticks.
  for (uint64_t c = 1; c <= 150; ++c) {
    join(c, "p" + std::to_string(c));
    game.receive(c, ClientMessage{MoveRequest{1, 0}});
  }
  game.tick(0.05, now);  // every client's first state: all of it
  for (auto& s : take()) ASSERT_EQ(s.message.at("zones").as_object().size(), 4u);
  size_t far = 0, near = 0, total = 0;
  for (int i = 0; i < 12; ++i) {
    now += 50ms;
    game.tick(0.05, now);
    for (auto& s : take()) {
      ++total;
      if (s.connection != 1) continue;
      auto& zones = s.message.at("zones").as_object();
      EXPECT_TRUE(zones.contains(s.message.at("you").at("zone").as_string()));
      EXPECT_FALSE(s.message.contains("players"));  // nobody joined, left or changed voice
      (zones.size() == 4 ? far : near)++;
    }
  }
  EXPECT_EQ(far, 2u);
  EXPECT_EQ(near, 10u);
  EXPECT_EQ(total, 12u * 150);  // everyone, every tick: their own zone moved
}
