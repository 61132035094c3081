#include "web/rosters.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

using namespace confab::web;
using confab::conference_events::EndpointStatus;
using confab::conference_events::RosterMember;

TEST(Rosters, RosterMessage) {
  std::vector<RosterMember> members = {{"sip:ann@127.0.0.1:5170", "Ann", EndpointStatus::Connected},
                                       {"sip:bob@127.0.0.1:5172", "", EndpointStatus::OnHold},
                                       {"sip:carol@h", "", std::nullopt}};
  auto v = boost::json::parse(roster_json("/films/dune", "sip:web-films-dune@h", members));
  EXPECT_EQ(v.at("type"), "roster");
  EXPECT_EQ(v.at("path"), "/films/dune");
  EXPECT_EQ(v.at("conference"), "sip:web-films-dune@h");
  auto& m = v.at("members").as_array();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].at("uri"), "sip:ann@127.0.0.1:5170");
  EXPECT_EQ(m[0].at("name"), "Ann");
  EXPECT_EQ(m[0].at("status"), "connected");
  EXPECT_EQ(m[1].at("name"), "bob");  // no display text: the user part
  EXPECT_EQ(m[1].at("status"), "on-hold");
  EXPECT_EQ(m[2].at("status"), "connected");
  auto empty = boost::json::parse(roster_json("/", "sip:web-home@h", {}));
  EXPECT_TRUE(empty.at("members").as_array().empty());
}
