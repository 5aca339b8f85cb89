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

}  // namespace r1lab::metrics
