#include "metrics/consensus.h"

#include <gtest/gtest.h>

#include <cmath>

#include "metrics/pass_at_k.h"
#include "metrics/summary.h"

namespace r1lab::metrics {
namespace {

TEST(MajorityVote, LargestClassWins) {
  auto vote = majority_vote({0, 1, 1, 2, 1});
  EXPECT_EQ(vote.winning_class, 1);
  EXPECT_EQ(vote.winning_votes, 3);
  EXPECT_EQ(vote.first_sample, 1);
}

TEST(MajorityVote, NoAnswerNeverWins) {
  auto vote = majority_vote({-1, -1, -1, 4});
  EXPECT_EQ(vote.winning_class, 4);
  EXPECT_EQ(majority_vote({-1, -1}).winning_class, -1);
}

TEST(MajorityVote, TieGoesToTheEarliestSample) {
  EXPECT_EQ(majority_vote({3, 7, 7, 3}).winning_class, 3);
  EXPECT_EQ(majority_vote({7, 3, 3, 7}).winning_class, 7);
}

TEST(MajorityVote, UsesFirstKSamples) {
  EXPECT_EQ(majority_vote({1, 1, 2, 2, 2}, 2).winning_class, 1);
  EXPECT_THROW(majority_vote({1}, 2), MetricError);
}

TEST(MeanWithError, SampleStandardDeviationOverProblems) {
  auto m = mean_with_error({1.0, 0.0, 1.0, 0.0});
  EXPECT_DOUBLE_EQ(m.mean, 0.5);
  // ddof = 1: variance 1/3, standard error sqrt(1/3 / 4).
  EXPECT_NEAR(m.standard_error, std::sqrt(1.0 / 12.0), 1e-15);
  EXPECT_DOUBLE_EQ(mean_with_error({0.7}).standard_error, 0.0);
}

}  // namespace
}  // namespace r1lab::metrics
