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


// cons@k below n against a brute-force reference: enumerate every k-subset with majority_vote itself.
double cons_at_k_by_enumeration(const std::vector<int>& ids, const std::vector<bool>& correct, std::size_t k) {
  const std::size_t n = ids.size();
  std::size_t hits = 0, total = 0;
  for (std::uint32_t mask = 0; mask < (1u << n); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != k) continue;
    std::vector<int> subset;
    for (std::size_t i = 0; i < n; ++i)
      if (mask & (1u << i)) subset.push_back(ids[i]);
    auto vote = majority_vote(subset);
    hits += vote.winning_class >= 0 && correct[static_cast<std::size_t>(vote.winning_class)];
    ++total;
  }
  return static_cast<double>(hits) / static_cast<double>(total);
}

TEST(ConsensusAtK, EqualsTheVoteOverEverySubset) {
  const std::vector<int> ids = {2, 0, 1, 1, -1, 0, 2, 2, 1, 0, 0, -1};
  const std::vector<bool> correct = {true, false, false};
  for (std::size_t k = 1; k <= ids.size(); ++k)
    EXPECT_NEAR(consensus_at_k(ids, correct, k, 7), cons_at_k_by_enumeration(ids, correct, k), 1e-12) << "k=" << k;
}

TEST(ConsensusAtK, EndsAreTheSampleFractionAndTheFullVote) {
  const std::vector<int> ids = {1, 0, 0, 1, 1, -1};
  const std::vector<bool> correct = {true, false};
  EXPECT_DOUBLE_EQ(consensus_at_k(ids, correct, 1, 0), 2.0 / 6.0);   // two samples in the correct class
  EXPECT_DOUBLE_EQ(consensus_at_k(ids, correct, 6, 0), 0.0);         // class 1 has three votes
  EXPECT_THROW(consensus_at_k(ids, correct, 0, 0), MetricError);
  EXPECT_THROW(consensus_at_k(ids, correct, 7, 0), MetricError);
}

TEST(ConsensusAtK, SampledSubsetsAreCloseToTheExactValueAndReproducible) {
  // n = 20, k = 10: C(20, 10) = 184,756 subsets, so 2000 are drawn. Class 0 (correct) holds 8 samples,
  // classes 1 and 2 hold 6 each: the exact value is computed by enumeration here, once.
  std::vector<int> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(i % 10 < 4 ? 0 : i % 10 < 7 ? 1 : 2);
  const std::vector<bool> correct = {true, false, false};
  const double exact = cons_at_k_by_enumeration(ids, correct, 10);
  const double sampled = consensus_at_k(ids, correct, 10, 42);
  // 2000 Bernoulli draws: the standard error is at most 0.5 / sqrt(2000) = 0.011.
  EXPECT_NEAR(sampled, exact, 0.045);
  EXPECT_EQ(sampled, consensus_at_k(ids, correct, 10, 42));
}

}  // namespace
}  // namespace r1lab::metrics
