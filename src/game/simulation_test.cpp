#include "game/simulation.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace confab::game;

namespace {

// Three zones in a row, a | b | c, each 10 m wide and 10 m high.
World row(double speed = 5, size_t max_players = 50) {
  World w;
  w.width = 30;
  w.height = 10;
  w.speed = speed;
  for (const char* name : {"a", "b", "c"}) {
    Zone z;
    z.name = name;
    z.x = 10.0 * static_cast<double>(w.zones.size());
    z.width = z.height = 10;
    z.max_players = max_players;
    w.zones.push_back(z);
  }
  return w;
}

// Walks the player to (x, y) in as many ticks as it takes.
void walk(Simulation& s, const Player* p, double x, double y) {
  s.set_intent(p->id, Intent::to(x, y));
  for (int i = 0; i < 10000 && p->intent.kind != Intent::Kind::stop; ++i) s.tick(0.05);
}

}  // namespace

TEST(Simulation, JoinsNamesAndAddresses) {
  World w = default_world("");
  Simulation s(w, 1);
  auto ann = s.join("Ann", "sip:ann@127.0.0.1:5062");
  ASSERT_TRUE(ann.player);
  EXPECT_EQ(ann.player->id, "p1");
  EXPECT_EQ(s.join("ANN", "sip:other@127.0.0.1").code, 409);  // names are unique, case-insensitively
  EXPECT_EQ(s.join("Bob", "sip:ann@127.0.0.1:5062").code, 409);  // so are addresses
  EXPECT_EQ(s.join("Bob", "ann@127.0.0.1").code, 400);
  EXPECT_EQ(s.join("Bob", "").code, 400);  // server voice: the server must be able to call
  EXPECT_EQ(s.join("", "sip:bob@h").code, 400);
  auto bob = s.join("Bob", "sip:bob@127.0.0.1:5064");
  ASSERT_TRUE(bob.player);
  EXPECT_EQ(bob.player->id, "p2");
  EXPECT_NE(bob.player->zone, ann.player->zone);  // spawned in the least full zone
  s.leave("p1");
  EXPECT_EQ(s.player("p1"), nullptr);
  EXPECT_TRUE(s.join("ann", "sip:ann@127.0.0.1:5062").player);  // free again, with a new id
  EXPECT_EQ(s.players().back()->id, "p3");
  World client = w;
  client.voice = VoiceMode::client;
  Simulation c(client, 1);
  EXPECT_TRUE(c.join("Cy", "").player);  // the page carries the voice: no address needed
}

TEST(Simulation, SpawnsInsideAZoneAwayFromItsLines) {
  World w = default_world("");
  Simulation s(w, 42);
  for (int i = 0; i < 40; ++i) {
    auto j = s.join("p" + std::to_string(i), "sip:u" + std::to_string(i) + "@h");
    ASSERT_TRUE(j.player);
    const Zone& z = *j.player->zone;
    EXPECT_EQ(w.zone_at(j.player->x, j.player->y), &z);
    EXPECT_GE(j.player->x, z.x + z.width / 4 - 1e-9);
    EXPECT_LE(j.player->x, z.x + z.width * 3 / 4 + 1e-9);
  }
  for (auto& z : w.zones) EXPECT_EQ(s.population(z), 10u);  // spread evenly
}

TEST(Simulation, AFullWorldRefusesNewPlayers) {
  World w = row(5, 1);
  Simulation s(w, 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.join("p" + std::to_string(i), "sip:u" + std::to_string(i) + "@h").player);
  auto refused = s.join("late", "sip:late@h");
  EXPECT_EQ(refused.code, 503);
  EXPECT_EQ(refused.player, nullptr);
}

TEST(Simulation, MovesAtMostSpeedTimesDt) {
  World w = row(5);
  Simulation s(w, 1);
  const Player* p = s.join("Ann", "sip:ann@h").player;
  walk(s, p, 5, 5);
  s.set_intent(p->id, Intent::toward(1000, 0));  // the length of a direction does not matter
  s.tick(0.05);
  EXPECT_NEAR(p->x, 5.25, 1e-9);
  s.set_intent(p->id, Intent::toward(1, 1));  // diagonally: still 5 m/s in all
  s.tick(0.1);
  EXPECT_NEAR(std::hypot(p->x - 5.25, p->y - 5), 0.5, 1e-9);
  // A far target is walked to, never jumped to.
  double x = p->x;
  s.set_intent(p->id, Intent::to(29, p->y));
  s.tick(0.05);
  EXPECT_NEAR(p->x - x, 0.25, 1e-9);
  s.set_intent(p->id, Intent::toward(0, 0));
  x = p->x;
  s.tick(1);
  EXPECT_EQ(p->x, x);
}

TEST(Simulation, NoTeleportingAcrossZones) {
  World w = row(5);
  Simulation s(w, 1);
  const Player* p = s.join("Ann", "sip:ann@h").player;
  walk(s, p, 8, 5);
  s.set_intent(p->id, Intent::to(25, 5));  // in zone c, two zones away
  std::vector<std::string> path;
  for (int i = 0; i < 200; ++i) {
    for (auto& c : s.tick(0.05).crossings) path.push_back(c.from->name + ">" + c.to->name);
  }
  EXPECT_EQ(path, (std::vector<std::string>{"a>b", "b>c"}));
  EXPECT_NEAR(p->x, 25, 1e-9);
  EXPECT_EQ(p->intent.kind, Intent::Kind::stop);  // arrived
}

TEST(Simulation, StaysInTheWorld) {
  World w = row(5);
  Simulation s(w, 1);
  const Player* p = s.join("Ann", "sip:ann@h").player;
  s.set_intent(p->id, Intent::toward(-1, -1));
  for (int i = 0; i < 100; ++i) s.tick(0.05);
  EXPECT_EQ(p->x, 0);
  EXPECT_EQ(p->y, 0);
  s.set_intent(p->id, Intent::to(500, 500));  // clamped to the world's corner
  EXPECT_EQ(p->intent.x, 30);
  EXPECT_EQ(p->intent.y, 10);
  walk(s, p, 500, 500);
  EXPECT_EQ(p->x, 30);
  EXPECT_EQ(p->zone->name, "c");
}

TEST(Simulation, AFullZoneStopsPlayersAtItsLine) {
  World w = row(5);
  w.zones[1].max_players = 1;
  Simulation s(w, 1);
  const Player* ann = s.join("Ann", "sip:ann@h").player;  // a
  const Player* bob = s.join("Bob", "sip:bob@h").player;  // b, now full
  ASSERT_EQ(bob->zone->name, "b");
  walk(s, ann, 8, 5);
  s.set_intent(ann->id, Intent::toward(1, 0));
  std::vector<Crossing> crossings;
  for (int i = 0; i < 40; ++i)
    for (auto& c : s.tick(0.05).crossings) crossings.push_back(c);
  EXPECT_TRUE(crossings.empty());
  EXPECT_EQ(ann->zone->name, "a");
  EXPECT_NEAR(ann->x, 10, 1e-4);  // at the line
  EXPECT_LT(ann->x, 10);
  // Diagonally into it: stopped at the line too.
  s.set_intent(ann->id, Intent::toward(1, 1));
  s.tick(0.05);
  EXPECT_EQ(ann->zone->name, "a");
  // Room again: in it goes.
  s.leave(bob->id);
  s.set_intent(ann->id, Intent::toward(1, 0));
  auto c = s.tick(0.05).crossings;
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].player, ann);
  EXPECT_EQ(c[0].from->name, "a");
  EXPECT_EQ(c[0].to->name, "b");
  EXPECT_EQ(s.population(w.zones[1]), 1u);
  EXPECT_EQ(s.population(w.zones[0]), 0u);
}

TEST(Simulation, ATargetInAFullZoneIsWalkedToItsLine) {
  World w = row(1000);
  w.zones[2].max_players = 1;
  Simulation s(w, 1);
  const Player* ann = s.join("Ann", "sip:ann@h").player;  // a
  s.join("Bob", "sip:bob@h");                               // b
  s.join("Cy", "sip:cy@h");                                 // c, now full
  s.set_intent(ann->id, Intent::to(28, 5));
  auto c = s.tick(1).crossings;
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].to->name, "b");
  EXPECT_NEAR(ann->x, 20, 1e-4);
  EXPECT_EQ(ann->zone->name, "b");
}

TEST(Simulation, ProximityGainsFallLinearlyInDb) {
  World w = default_world("");  // proximity 10 m, -6 dB at the line
  Simulation s(w, 1);
  const Player* p = s.join("Ann", "sip:ann@h").player;
  w.speed = 1000;
  walk(s, p, 25, 25);
  EXPECT_TRUE(s.hears(*p).empty());  // 25 m from every line
  walk(s, p, 45, 25);  // 5 m from ne
  auto t = s.tick(0.05);  // each tick reports what everyone hears
  ASSERT_EQ(t.hears.size(), 1u);
  ASSERT_EQ(t.hears.at(p->id).size(), 1u);
  auto h = s.hears(*p);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].first->name, "ne");
  EXPECT_NEAR(h[0].second, -33, 1e-9);  // halfway: -6 + (-60 - -6) / 2
  walk(s, p, 49.999999, 49.999999);  // at the corner: hears all three others at about -6 dB
  h = s.hears(*p);
  ASSERT_EQ(h.size(), 3u);
  for (auto& [zone, db] : h) EXPECT_NEAR(db, -6, 0.01) << zone->name;
  walk(s, p, 40, 40);  // 10 m from ne and sw, 14 m from se: at the edge of hearing
  EXPECT_TRUE(s.hears(*p).empty());
  EXPECT_EQ(Simulation::gain_db(w, 0), -6);
  EXPECT_NEAR(Simulation::gain_db(w, 2.5), -19.5, 1e-9);
  EXPECT_EQ(Simulation::gain_db(w, 10), -60);
  w.voice = VoiceMode::client;  // the page carries the voice: no proximity
  EXPECT_TRUE(s.hears(*p).empty());
}
