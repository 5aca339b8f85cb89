#include "metrics/consensus.h"

#include <map>

#include "metrics/pass_at_k.h"

namespace r1lab::metrics {

ConsensusVote majority_vote(const std::vector<int>& class_ids, std::size_t k) {
  if (k == 0) k = class_ids.size();
  if (k > class_ids.size())
    throw MetricError("cons@" + std::to_string(k) + " needs " + std::to_string(k) + " samples, only " +
                      std::to_string(class_ids.size()) + " present");
  struct Tally { int votes = 0; int first = 0; };
  std::map<int, Tally> tallies;
  for (std::size_t i = 0; i < k; ++i) {
    int id = class_ids[i];
    if (id < 0) continue;
    auto [it, inserted] = tallies.try_emplace(id, Tally{0, static_cast<int>(i)});
    it->second.votes++;
  }
  ConsensusVote vote;
  for (const auto& [id, tally] : tallies) {
    bool better = tally.votes > vote.winning_votes ||
                  (tally.votes == vote.winning_votes && tally.first < vote.first_sample);
    if (vote.winning_class < 0 || better) vote = {id, tally.votes, tally.first};
  }
  return vote;
}

}  // namespace r1lab::metrics
