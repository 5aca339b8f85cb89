// Response-length statistics against numpy's definitions (numpy.percentile, linear interpolation).
#include <gtest/gtest.h>

#include "metrics/length_stats.h"

namespace {

using r1lab::metrics::length_histogram;
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

TEST(LengthHistogram, RoundBinsThatHoldTheLongest) {
  // Longest 3,900 over 20 bins: widths 100 and 195 would not be round; 200 is (edges 0..4,000).
  auto h = length_histogram({100, 199, 200, 3900}, {0, 4000 - 1, 250}, 20);
  ASSERT_EQ(h.edges.size(), 21u);
  EXPECT_DOUBLE_EQ(h.edges[1], 200);
  EXPECT_DOUBLE_EQ(h.edges.back(), 4000);
  EXPECT_EQ(h.correct[0], 2u);    // 100, 199
  EXPECT_EQ(h.correct[1], 1u);    // 200 is an inner edge: the bin above
  EXPECT_EQ(h.correct[19], 1u);   // 3,900
  EXPECT_EQ(h.other[0], 1u);
  EXPECT_EQ(h.other[1], 1u);
  EXPECT_EQ(h.other[19], 1u);
  // A longest length exactly on a round edge must fit inside: 20 bins of 50 would end at 1,000, so the
  // width is 100 and 1,000 lands in bin 10.
  auto edge = length_histogram({1000}, {}, 20);
  EXPECT_DOUBLE_EQ(edge.edges.back(), 2000);
  EXPECT_EQ(edge.correct[10], 1u);
  EXPECT_TRUE(length_histogram({}, {}, 20).edges.empty());
}

TEST(LengthHistogram, ARunawayAnswerDoesNotSqueezeTheRest) {
  // 99 answers of 100 characters and one of 43,000: the bins end past the 99th percentile (529), at
  // 1,000, and the runaway is counted in the last bin and reported apart.
  std::vector<double> other(99, 100.0);
  auto h = length_histogram({43000}, other, 20);
  EXPECT_DOUBLE_EQ(h.edges.back(), 1000);
  EXPECT_EQ(h.other[2], 99u);
  EXPECT_EQ(h.correct[19], 1u);
  EXPECT_EQ(h.beyond_last_edge, 1u);
}

}  // namespace
