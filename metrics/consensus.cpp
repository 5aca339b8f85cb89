#include "metrics/consensus.h"

#include <algorithm>
#include <cstdint>
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

namespace r1lab::metrics {

namespace {

// C(n, k), or SIZE_MAX once it exceeds `cap` (only "is it small enough to enumerate" is asked).
std::size_t binomial_capped(std::size_t n, std::size_t k, std::size_t cap) {
  k = std::min(k, n - k);
  double value = 1;
  for (std::size_t i = 1; i <= k; ++i) {
    value = value * static_cast<double>(n - k + i) / static_cast<double>(i);
    if (value > static_cast<double>(cap)) return SIZE_MAX;
  }
  return static_cast<std::size_t>(value + 0.5);
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

double consensus_at_k(const std::vector<int>& class_ids, const std::vector<bool>& class_correct, std::size_t k,
                      std::uint64_t seed) {
  const std::size_t n = class_ids.size();
  if (k == 0 || k > n)
    throw MetricError("cons@" + std::to_string(k) + " needs between 1 and " + std::to_string(n) + " samples");
  // The vote of majority_vote, over sample positions, without allocating: the most votes wins, a tie goes
  // to the class whose first member has the smallest position.
  int classes = 0;
  for (int id : class_ids) classes = std::max(classes, id + 1);
  std::vector<std::size_t> votes(static_cast<std::size_t>(classes)), first(static_cast<std::size_t>(classes));
  auto vote_is_correct = [&](const std::size_t* positions) {
    std::fill(votes.begin(), votes.end(), 0);
    std::fill(first.begin(), first.end(), SIZE_MAX);
    int winner = -1;
    for (std::size_t i = 0; i < k; ++i) {
      const int id = class_ids[positions[i]];
      if (id < 0) continue;
      const auto c = static_cast<std::size_t>(id);
      ++votes[c];
      first[c] = std::min(first[c], positions[i]);
    }
    for (std::size_t c = 0; c < votes.size(); ++c) {
      if (votes[c] == 0) continue;
      const auto w = static_cast<std::size_t>(winner);
      if (winner < 0 || votes[c] > votes[w] || (votes[c] == votes[w] && first[c] < first[w])) winner = static_cast<int>(c);
    }
    return winner >= 0 && static_cast<std::size_t>(winner) < class_correct.size() &&
           class_correct[static_cast<std::size_t>(winner)];
  };
  std::size_t correct = 0, voted = 0;
  if (binomial_capped(n, k, kExactSubsets) <= kExactSubsets) {
    // Every k-subset, as increasing position lists.
    std::vector<std::size_t> index(k);
    for (std::size_t i = 0; i < k; ++i) index[i] = i;
    while (true) {
      correct += vote_is_correct(index.data());
      ++voted;
      std::size_t i = k;
      while (i > 0 && index[i - 1] == n - k + i - 1) --i;
      if (i == 0) break;
      ++index[i - 1];
      for (std::size_t j = i; j < k; ++j) index[j] = index[j - 1] + 1;
    }
  } else {
    // Random k-subsets: the first k of a partial Fisher-Yates shuffle (which stays uniform when it starts
    // from the previous draw's order).
    std::uint64_t state = seed;
    std::vector<std::size_t> order(n);
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    for (std::size_t draw = 0; draw < kSampledSubsets; ++draw) {
      for (std::size_t i = 0; i < k; ++i) std::swap(order[i], order[i + splitmix64(state) % (n - i)]);
      correct += vote_is_correct(order.data());
      ++voted;
    }
  }
  return static_cast<double>(correct) / static_cast<double>(voted);
}

}  // namespace r1lab::metrics
