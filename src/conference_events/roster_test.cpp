// Tests of the subscriber-side roster: full and partial notifications and the
// RFC 4575 version rules (duplicates ignored, gaps need a re-SUBSCRIBE).
#include "conference_events/roster.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace confab::conference_events;
using Outcome = Roster::Outcome;

namespace {

constexpr const char* kConference = "sip:room@conference.example.com";

Endpoint endpoint(std::string entity, std::optional<EndpointStatus> status,
                  ElementState state = ElementState::Full) {
  Endpoint e;
  e.entity = std::move(entity);
  e.status = status;
  e.state = state;
  return e;
}

User user(std::string entity, std::string display_text, std::vector<Endpoint> endpoints,
          ElementState state = ElementState::Full) {
  return User{std::move(entity), state, std::move(display_text), std::move(endpoints)};
}

ConferenceInfo document(ElementState state, uint32_t version, std::vector<User> users) {
  ConferenceInfo info;
  info.entity = kConference;
  info.state = state;
  info.version = version;
  info.users = std::move(users);
  return info;
}

ConferenceInfo full_with_alice_and_bob(uint32_t version) {
  auto info = document(ElementState::Full, version,
                       {user("sip:bob@x", "Bob", {endpoint("sip:bob@host-b", EndpointStatus::Connected)}),
                        user("sip:alice@x", "Alice", {endpoint("sip:alice@host-a", EndpointStatus::Connected)})});
  info.user_count = 2;
  return info;
}

std::vector<std::string> member_entities(const Roster& roster) {
  std::vector<std::string> out;
  for (const auto& member : roster.members()) out.push_back(member.entity);
  return out;
}

using Entities = std::vector<std::string>;

}  // namespace

TEST(Roster, StartsEmpty) {
  Roster roster;
  EXPECT_FALSE(roster.has_state());
  EXPECT_EQ(roster.version(), 0u);
  EXPECT_TRUE(roster.members().empty());
  EXPECT_TRUE(roster.conference().empty());
  EXPECT_FALSE(roster.user_count().has_value());
}

TEST(Roster, FullThenPartialJoin) {
  Roster roster;
  ASSERT_EQ(roster.apply(full_with_alice_and_bob(1)), Outcome::Applied);
  EXPECT_TRUE(roster.has_state());
  EXPECT_EQ(roster.version(), 1u);
  EXPECT_EQ(roster.conference(), kConference);
  EXPECT_EQ(roster.user_count(), 2u);
  EXPECT_EQ(member_entities(roster), (Entities{"sip:alice@x", "sip:bob@x"}));  // sorted

  auto join = document(ElementState::Partial, 2,
                       {user("sip:carol@x", "Carol", {endpoint("sip:carol@host-c", EndpointStatus::Alerting)})});
  join.user_count = 3;
  ASSERT_EQ(roster.apply(join), Outcome::Applied);
  EXPECT_EQ(roster.version(), 2u);
  EXPECT_EQ(roster.user_count(), 3u);
  auto members = roster.members();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[2].entity, "sip:carol@x");
  EXPECT_EQ(members[2].display_text, "Carol");
  EXPECT_EQ(members[2].status, EndpointStatus::Alerting);
  EXPECT_EQ(members[0].display_text, "Alice");  // untouched by the partial
}

TEST(Roster, PartialLeaveRemovesTheUser) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(10));
  auto leave = document(ElementState::Partial, 11, {user("sip:bob@x", "", {}, ElementState::Deleted)});
  ASSERT_EQ(roster.apply(leave), Outcome::Applied);
  EXPECT_EQ(member_entities(roster), (Entities{"sip:alice@x"}));
  EXPECT_EQ(roster.user_count(), 2u);  // not in the partial: kept
}

TEST(Roster, PartialStatusChangeMergesIntoTheUser) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(1));
  auto hold = document(ElementState::Partial, 2,
                       {user("sip:alice@x", "",
                             {endpoint("sip:alice@host-a", EndpointStatus::OnHold, ElementState::Partial)},
                             ElementState::Partial)});
  ASSERT_EQ(roster.apply(hold), Outcome::Applied);
  auto members = roster.members();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].entity, "sip:alice@x");
  EXPECT_EQ(members[0].display_text, "Alice");  // absent in the partial: kept
  EXPECT_EQ(members[0].status, EndpointStatus::OnHold);
  EXPECT_EQ(members[1].status, EndpointStatus::Connected);
}

TEST(Roster, PartialEndpointAddAndDelete) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(1));
  // Alice adds a second device, then drops the first one.
  ASSERT_EQ(roster.apply(document(ElementState::Partial, 2,
                                  {user("sip:alice@x", "",
                                        {endpoint("sip:alice@mobile", EndpointStatus::DialingIn)},
                                        ElementState::Partial)})),
            Outcome::Applied);
  ASSERT_EQ(roster.apply(document(ElementState::Partial, 3,
                                  {user("sip:alice@x", "",
                                        {endpoint("sip:alice@host-a", std::nullopt, ElementState::Deleted)},
                                        ElementState::Partial)})),
            Outcome::Applied);
  auto members = roster.members();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].status, EndpointStatus::DialingIn);  // the remaining (mobile) endpoint
}

TEST(Roster, PartialFullUserReplacesThatUser) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(1));
  ASSERT_EQ(roster.apply(document(ElementState::Partial, 2,
                                  {user("sip:bob@x", "Robert", {endpoint("sip:bob@new", EndpointStatus::Pending)})})),
            Outcome::Applied);
  auto members = roster.members();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[1].display_text, "Robert");
  EXPECT_EQ(members[1].status, EndpointStatus::Pending);
}

TEST(Roster, DuplicateAndOldVersionsAreIgnored) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(5));
  auto leave = document(ElementState::Partial, 6, {user("sip:bob@x", "", {}, ElementState::Deleted)});
  ASSERT_EQ(roster.apply(leave), Outcome::Applied);
  EXPECT_EQ(roster.apply(leave), Outcome::Ignored);  // the same NOTIFY again
  EXPECT_EQ(roster.apply(document(ElementState::Partial, 3, {user("sip:zed@x", "Zed", {})})), Outcome::Ignored);
  EXPECT_EQ(roster.apply(full_with_alice_and_bob(6)), Outcome::Ignored);  // a full state that is not newer
  EXPECT_EQ(roster.version(), 6u);
  EXPECT_EQ(member_entities(roster), (Entities{"sip:alice@x"}));
}

TEST(Roster, VersionGapNeedsResyncAndChangesNothing) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(1));
  auto skipped = document(ElementState::Partial, 3, {user("sip:bob@x", "", {}, ElementState::Deleted)});
  EXPECT_EQ(roster.apply(skipped), Outcome::NeedsResync);
  EXPECT_EQ(roster.version(), 1u);
  EXPECT_EQ(member_entities(roster), (Entities{"sip:alice@x", "sip:bob@x"}));
}

TEST(Roster, PartialBeforeAnyFullStateNeedsResync) {
  Roster roster;
  EXPECT_EQ(roster.apply(document(ElementState::Partial, 1, {user("sip:alice@x", "Alice", {})})),
            Outcome::NeedsResync);
  // Even one that looks like the successor of the (empty) initial state.
  auto anonymous = document(ElementState::Partial, 1, {user("sip:alice@x", "Alice", {})});
  anonymous.entity.clear();
  EXPECT_EQ(roster.apply(anonymous), Outcome::NeedsResync);
  EXPECT_FALSE(roster.has_state());
  EXPECT_TRUE(roster.members().empty());
}

TEST(Roster, PartialForAnotherConferenceNeedsResync) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(1));
  auto other = document(ElementState::Partial, 2, {user("sip:bob@x", "", {}, ElementState::Deleted)});
  other.entity = "sip:other@conference.example.com";
  EXPECT_EQ(roster.apply(other), Outcome::NeedsResync);
  EXPECT_EQ(member_entities(roster), (Entities{"sip:alice@x", "sip:bob@x"}));
}

TEST(Roster, FullAfterResyncReplacesEverything) {
  Roster roster;
  roster.apply(full_with_alice_and_bob(1));
  ASSERT_EQ(roster.apply(document(ElementState::Partial, 9, {})), Outcome::NeedsResync);
  // The new subscription starts its own version counter: a newer full state wins.
  auto fresh = document(ElementState::Full, 2, {user("sip:dave@x", "Dave", {endpoint("sip:dave@d", std::nullopt)})});
  ASSERT_EQ(roster.apply(fresh), Outcome::Applied);
  EXPECT_EQ(roster.version(), 2u);
  EXPECT_FALSE(roster.user_count().has_value());  // the full state has none
  auto members = roster.members();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].entity, "sip:dave@x");
  EXPECT_FALSE(members[0].status.has_value());
  // And partials continue from it.
  EXPECT_EQ(roster.apply(document(ElementState::Partial, 3, {user("sip:erin@x", "Erin", {})})), Outcome::Applied);
  EXPECT_EQ(member_entities(roster), (Entities{"sip:dave@x", "sip:erin@x"}));
}

TEST(Roster, DisconnectedOnlyUsersAreNotMembers) {
  Roster roster;
  auto info = document(
      ElementState::Full, 1,
      {user("sip:gone@x", "Gone",
            {endpoint("sip:gone@a", EndpointStatus::Disconnected), endpoint("sip:gone@b", EndpointStatus::Disconnected)}),
       user("sip:half@x", "Half",
            {endpoint("sip:half@a", EndpointStatus::Disconnected), endpoint("sip:half@b", EndpointStatus::Connected)}),
       user("sip:listed@x", "Listed", {}),
       user("sip:deleted@x", "Deleted", {}, ElementState::Deleted)});
  ASSERT_EQ(roster.apply(info), Outcome::Applied);
  auto members = roster.members();
  EXPECT_EQ(member_entities(roster), (Entities{"sip:half@x", "sip:listed@x"}));
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].status, EndpointStatus::Disconnected);  // the first endpoint that has a status

  // Half's last connected endpoint disconnects: Half leaves the member list.
  ASSERT_EQ(roster.apply(document(ElementState::Partial, 2,
                                  {user("sip:half@x", "",
                                        {endpoint("sip:half@b", EndpointStatus::Disconnected, ElementState::Partial)},
                                        ElementState::Partial)})),
            Outcome::Applied);
  EXPECT_EQ(member_entities(roster), (Entities{"sip:listed@x"}));
}
