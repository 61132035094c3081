#include "base/random.h"

#include <gtest/gtest.h>

#include <set>

namespace confab::base {
namespace {

TEST(Random, HexOfTheAskedLengthAndNeverTheSameTwice) {
  EXPECT_EQ(random_hex(0), "");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto h = random_hex(16);
    ASSERT_EQ(h.size(), 32u);
    EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
    seen.insert(h);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace confab::base
