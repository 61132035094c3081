#include "game/state_snapshot.h"

#include <gtest/gtest.h>

using namespace confab::game;

namespace {

struct StateSnapshotTest : ::testing::Test {
  World world = default_world("127.0.0.1:5080");  // nw, ne, sw, se
  StateSnapshot snapshot{world};
  Player ann{"p1", "Ann", "sip:ann@h", 10, 10, &world.zones[0], {}};
  Player bob{"p2", "Bob", "sip:bob@h", 60, 10, &world.zones[1], {}};
  std::map<std::string, VoiceStatus> statuses{{"p1", {"on", ""}}};
  Rosters rosters{{"nw", {"sip:ann@h"}}};
};

}  // namespace

TEST_F(StateSnapshotTest, CardsAreSentWhenNewOrChangedAndLeaversAreNamed) {
  snapshot.update(1, {&ann, &bob}, statuses, rosters);
  EXPECT_EQ(snapshot.changed_cards(), R"("p1":{"name":"Ann","voice":"on"},"p2":{"name":"Bob","voice":"off"})");
  EXPECT_EQ(snapshot.all_cards(), snapshot.changed_cards());
  EXPECT_EQ(snapshot.left(), "");
  ann.x = 11;  // walking changes no card
  snapshot.update(2, {&ann, &bob}, statuses, rosters);
  EXPECT_EQ(snapshot.changed_cards(), "");
  statuses["p2"] = {"calling", ""};
  snapshot.update(3, {&ann, &bob}, statuses, rosters);
  EXPECT_EQ(snapshot.changed_cards(), R"("p2":{"name":"Bob","voice":"calling"})");
  snapshot.update(4, {&bob}, statuses, rosters);
  EXPECT_EQ(snapshot.left(), R"("p1")");
  EXPECT_EQ(snapshot.all_cards(), R"("p2":{"name":"Bob","voice":"calling"})");
  snapshot.update(5, {&bob}, statuses, rosters);
  EXPECT_EQ(snapshot.left(), "");
}

TEST_F(StateSnapshotTest, EachZoneHasItsPositionsAndRosterAndTheTickTheyChanged) {
  snapshot.update(1, {&ann, &bob}, statuses, rosters);
  EXPECT_EQ(snapshot.zone_count(), 4u);
  EXPECT_EQ(snapshot.zone_name(0), "nw");
  EXPECT_EQ(snapshot.positions(0), R"([["p1",10,10]])");
  EXPECT_EQ(snapshot.positions(1), R"([["p2",60,10]])");
  EXPECT_EQ(snapshot.positions(2), "[]");
  EXPECT_EQ(snapshot.roster(0), R"(["sip:ann@h"])");
  EXPECT_EQ(snapshot.roster(1), "");  // no report for ne
  for (size_t z = 0; z < 4; ++z) EXPECT_EQ(snapshot.changed_at(z), 1u);
  bob.x = 61;
  snapshot.update(2, {&ann, &bob}, statuses, rosters);
  EXPECT_EQ(snapshot.changed_at(0), 1u);
  EXPECT_EQ(snapshot.changed_at(1), 2u);
  rosters["nw"].push_back("sip:dan@h");
  snapshot.update(3, {&ann, &bob}, statuses, rosters);
  EXPECT_EQ(snapshot.changed_at(0), 3u);
  EXPECT_EQ(snapshot.roster(0), R"(["sip:ann@h","sip:dan@h"])");
  EXPECT_EQ(snapshot.zone_index(bob.zone), 1u);
}
