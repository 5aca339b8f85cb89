// CodeElo-style rating: the vectors, and the binary search against a brute-force scan.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "metrics/codeforces_rating.h"

namespace r1lab::metrics {
namespace {

TEST(CodeforcesRating, Vectors) {
  std::vector<double> all_1500(1000, 1500);
  EXPECT_EQ(rating_for_rank(501, all_1500), 1500);
  std::vector<double> split(500, 1200);
  split.insert(split.end(), 500, 1800);
  EXPECT_EQ(rating_for_rank(501, split), 1500);
  // Rank 100 among 1000 humans at 1500: 1 + 1000 / (1 + 10^((r - 1500)/400)) = 100 gives
  // r = 1500 + 400 log10(1000/99 - 1) = 1883.6, so 1884. (The issue lists 1599 for this vector; under the
  // stated formula the expected rank at 1599 is 362.3, not 100. See docs/codeforces-rating.md.)
  EXPECT_EQ(rating_for_rank(100, all_1500), 1884);
  EXPECT_NEAR(expected_rank(1599, all_1500), 362.3, 0.1);
}

TEST(CodeforcesRating, BinarySearchEqualsBruteForce) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    std::uniform_int_distribution<int> size(1, 300), rating(0, 3500);
    std::vector<double> humans(static_cast<std::size_t>(size(rng)));
    for (auto& h : humans) h = rating(rng);
    std::uniform_real_distribution<double> rank_draw(1, static_cast<double>(humans.size()) + 1);
    double rank = std::round(rank_draw(rng));
    int best = -1000;
    double best_gap = 1e18;
    for (int r = -1000; r <= 5000; ++r) {
      double gap = std::fabs(expected_rank(r, humans) - rank);
      if (gap < best_gap) { best_gap = gap; best = r; }
    }
    int found = rating_for_rank(rank, humans);
    EXPECT_NEAR(std::fabs(expected_rank(found, humans) - rank), best_gap, 1e-9) << "trial " << trial << " best " << best;
  }
}

TEST(CodeforcesRating, ScoresRanksAndPercentiles) {
  // Points: 500 solved on the 3rd attempt (400), 1000 never, 1500 on the first.
  auto points = score_contest({{500, 3}, {1000, std::nullopt}, {1500, 1}}, true);
  EXPECT_DOUBLE_EQ(points.score, 1900);
  auto icpc = score_contest({{0, 2}, {0, 1}, {0, std::nullopt}}, false);
  EXPECT_DOUBLE_EQ(icpc.score, 2);
  EXPECT_DOUBLE_EQ(icpc.penalty, 10);
  std::vector<HumanResult> humans = {{1500, 3, 50}, {1400, 2, 5}, {1300, 2, 10}, {1200, 2, 20}, {1100, 1, 0}};
  EXPECT_DOUBLE_EQ(rank_in_standings(icpc, humans, false), 3);   // behind 3 solved and (2, 5 min)
  EXPECT_DOUBLE_EQ(percentile_below(1500, {1000, 1200, 1500, 1800}), 50);
}

}  // namespace
}  // namespace r1lab::metrics
