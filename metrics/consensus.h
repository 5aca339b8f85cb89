// metrics/consensus.h — cons@k: majority vote over equivalence classes of extracted answers.
//
// The caller decides which answers are equivalent (the math grader does) and passes one class id per
// sample, in sample order; -1 means "no answer" and never wins. The largest class wins; a tie goes to the
// class whose first member comes earliest. The vote is correct when the winning class is correct.
#pragma once

#include <cstdint>
#include <vector>

namespace r1lab::metrics {

struct ConsensusVote {
  int winning_class = -1;      // -1 when no sample had an answer
  int winning_votes = 0;
  int first_sample = -1;       // earliest sample of the winning class
};

// Uses the first k entries (k <= class_ids.size()); k == 0 means all.
ConsensusVote majority_vote(const std::vector<int>& class_ids, std::size_t k = 0);

// cons@k for k < n, estimated from n samples: the probability that a majority vote over k samples drawn
// without replacement from the n is correct (ties within a subset go to the class whose first member has
// the smallest original position, as in majority_vote). Every k-subset is voted on when there are at most
// kExactSubsets of them; otherwise kSampledSubsets subsets are drawn with a generator seeded by `seed` (the caller derives
// it from the problem and k, so results are reproducible). class_correct[c] says whether class c is a
// correct answer. k == n is the single full vote; k == 1 is exactly the fraction of samples whose class is
// correct. Throws MetricError when k is 0 or above n.
inline constexpr std::size_t kExactSubsets = 2000;
inline constexpr std::size_t kSampledSubsets = 2000;
double consensus_at_k(const std::vector<int>& class_ids, const std::vector<bool>& class_correct, std::size_t k,
                      std::uint64_t seed);

}  // namespace r1lab::metrics
