#include "base/spelling.h"

#include <gtest/gtest.h>

namespace confab::base {
namespace {

TEST(Spelling, EditDistanceCountsInsertionsDeletionsSubstitutions) {
  EXPECT_EQ(edit_distance("conferance", "conference"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("registr", "register"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  EXPECT_EQ(edit_distance("gmae", "game"), 1u);  // two neighbours swapped: one slip
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Spelling, SuggestsTheNearestCloseName) {
  std::vector<std::string> commands{"proxy", "mixer", "conference", "game", "web", "phone"};
  EXPECT_EQ(nearest_name("conferance", commands), "conference");
  EXPECT_EQ(nearest_name("mixr", commands), "mixer");
  EXPECT_EQ(nearest_name("proxi", commands), "proxy");
  EXPECT_EQ(nearest_name("gmae", commands), "game");
  std::vector<std::string> options{"--listen", "--mixer", "--max-participants", "--max-conferences"};
  EXPECT_EQ(nearest_name("--lisen", options), "--listen");
  EXPECT_EQ(nearest_name("--mixxer", options), "--mixer");
  EXPECT_EQ(nearest_name("--max-particpants", options), "--max-participants");
}

TEST(Spelling, NoGuessWhenNothingIsClose) {
  std::vector<std::string> commands{"proxy", "mixer", "conference"};
  EXPECT_EQ(nearest_name("banana", commands), std::nullopt);
  EXPECT_EQ(nearest_name("x", commands), std::nullopt);
  EXPECT_EQ(nearest_name("", commands), std::nullopt);
  EXPECT_EQ(nearest_name("proxy", {}), std::nullopt);
}

TEST(Spelling, APrefixNamesTheLongerName) {
  EXPECT_EQ(nearest_name("--max-part", {"--listen", "--max-participants"}), "--max-participants");
}

}  // namespace
}  // namespace confab::base
