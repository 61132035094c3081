#include "proxy/response_selection.h"

#include <gtest/gtest.h>

using confab::proxy::select_best_response;
using confab::proxy::upstream_status;

TEST(ResponseSelection, SixHundredWins) { EXPECT_EQ(select_best_response({486, 603, 302}), 1u); }
TEST(ResponseSelection, LowestClassWins) { EXPECT_EQ(select_best_response({500, 486, 302}), 2u); }
TEST(ResponseSelection, PrefersAuthChallengesIn4xx) { EXPECT_EQ(select_best_response({404, 407, 486}), 1u); }
TEST(ResponseSelection, TimeoutSaysLeast) { EXPECT_EQ(select_best_response({408, 480}), 1u); }
TEST(ResponseSelection, Converts503) {
  EXPECT_EQ(upstream_status(503), 500);
  EXPECT_EQ(upstream_status(486), 486);
}
