// Response-length statistics against numpy's definitions (numpy.percentile, linear interpolation).
#include <gtest/gtest.h>

#include "metrics/length_stats.h"

namespace {

using r1lab::metrics::length_stats;

TEST(LengthStats, PercentilesInterpolateLikeNumpy) {
  // numpy.percentile([100, 200, 300, 400], [50, 90]) == [250., 370.]
  auto s = length_stats({400, 100, 300, 200});
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.mean, 250);
  EXPECT_DOUBLE_EQ(s.median, 250);
  EXPECT_DOUBLE_EQ(s.p90, 370);
  EXPECT_DOUBLE_EQ(s.max, 400);
  // numpy.percentile([3, 1, 2], [50, 90]) == [2., 2.8]
  s = length_stats({3, 1, 2});
  EXPECT_DOUBLE_EQ(s.median, 2);
  EXPECT_DOUBLE_EQ(s.p90, 2.8);
}

TEST(LengthStats, OneValueAndNone) {
  auto one = length_stats({7});
  EXPECT_DOUBLE_EQ(one.median, 7);
  EXPECT_DOUBLE_EQ(one.p90, 7);
  auto none = length_stats({});
  EXPECT_EQ(none.count, 0u);
  EXPECT_DOUBLE_EQ(none.max, 0);
}

}  // namespace
