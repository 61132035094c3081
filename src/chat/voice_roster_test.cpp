#include "chat/voice_roster.h"

#include <gtest/gtest.h>

using namespace confab::chat;
using Lines = std::vector<std::string>;

TEST(VoiceRoster, JoinsAndLeavesBecomeLinesInOrder) {
  VoiceRoster r;
  EXPECT_EQ(r.update({{"sip:b@h", "B"}}), (Lines{"B joined the voice room"}));
  EXPECT_EQ(r.update({{"sip:b@h", "B"}}), Lines{});  // no change, no line
  EXPECT_EQ(r.update({{"sip:b@h", "B"}, {"sip:a@h", "A"}}), (Lines{"A joined the voice room"}));
  EXPECT_EQ(r.names(), (Lines{"B", "A"}));  // in the order they came
  EXPECT_EQ(r.update({{"sip:a@h", "A"}}), (Lines{"B left the voice room"}));
  EXPECT_EQ(r.clear(), (Lines{"A left the voice room"}));
  EXPECT_TRUE(r.empty());
}

TEST(VoiceRoster, OneChangeListsLeavesFirstThenJoinsByName) {
  VoiceRoster r;
  r.update({{"sip:x@h", "X"}});
  EXPECT_EQ(r.update({{"sip:c@h", "C"}, {"sip:a@h", "A"}}),
            (Lines{"X left the voice room", "A joined the voice room", "C joined the voice room"}));
}

TEST(VoiceRoster, ALeaveUsesTheNameItJoinedUnder) {
  VoiceRoster r;
  r.update({{"sip:b@h", "Bob"}});
  EXPECT_EQ(r.update({{"sip:b@h", "Robert"}}), Lines{});
  EXPECT_EQ(r.clear(), (Lines{"Bob left the voice room"}));
}

TEST(VoiceRoster, TwoEntitiesWithOneNameAreTwoMembers) {
  VoiceRoster r;
  EXPECT_EQ(r.update({{"sip:b@h1", "B"}, {"sip:b@h2", "B"}}), (Lines{"B joined the voice room", "B joined the voice room"}));
  EXPECT_EQ(r.update({{"sip:b@h2", "B"}}), (Lines{"B left the voice room"}));
  EXPECT_EQ(r.names(), (Lines{"B"}));
}

TEST(VoiceRoster, OnlyConnectedMembersAreInTheVoiceRoom) {
  using confab::conference_events::EndpointStatus;
  using confab::conference_events::RosterMember;
  EXPECT_TRUE(in_voice_room(RosterMember{"sip:a@h", "", std::nullopt}));
  for (auto s : {EndpointStatus::Connected, EndpointStatus::OnHold, EndpointStatus::MutedViaFocus})
    EXPECT_TRUE(in_voice_room(RosterMember{"sip:a@h", "", s}));
  for (auto s : {EndpointStatus::Pending, EndpointStatus::DialingOut, EndpointStatus::DialingIn,
                 EndpointStatus::Alerting, EndpointStatus::Disconnecting, EndpointStatus::Disconnected})
    EXPECT_FALSE(in_voice_room(RosterMember{"sip:a@h", "", s}));
}

TEST(VoiceRoster, WhoLine) {
  EXPECT_EQ(who_line("standup", {}), "Nobody is in the voice room standup.");
  EXPECT_EQ(who_line("standup", {"B", "A"}), "In the voice room standup: B, A");
}
