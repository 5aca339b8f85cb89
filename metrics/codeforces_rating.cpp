#include "metrics/codeforces_rating.h"

#include <algorithm>
#include <cmath>

namespace r1lab::metrics {

double expected_rank(double rating, const std::vector<double>& human_ratings) {
  double rank = 1;
  for (double other : human_ratings) rank += 1.0 / (1.0 + std::pow(10.0, (rating - other) / 400.0));
  return rank;
}

int rating_for_rank(double rank, const std::vector<double>& human_ratings, int lo, int hi) {
  // Smallest r in [lo, hi] with expected_rank(r) <= rank; then whichever of r - 1, r is closer.
  int low = lo, high = hi;
  while (low < high) {
    int mid = low + (high - low) / 2;
    if (expected_rank(mid, human_ratings) <= rank) high = mid;
    else low = mid + 1;
  }
  if (low > lo && std::fabs(expected_rank(low - 1, human_ratings) - rank) < std::fabs(expected_rank(low, human_ratings) - rank))
    return low - 1;
  return low;
}

ContestScore score_contest(const std::vector<ProblemAttempts>& problems, bool points_scoring) {
  ContestScore score;
  for (const auto& p : problems) {
    if (!p.solved_on) continue;
    int failed = *p.solved_on - 1;
    if (points_scoring) {
      score.score += std::max(0.0, p.points - 50.0 * failed);
    } else {
      score.score += 1;
      score.penalty += 10.0 * failed;
    }
  }
  return score;
}

double rank_in_standings(const ContestScore& model, const std::vector<HumanResult>& humans, bool points_scoring) {
  double ahead = 0;
  for (const auto& h : humans) {
    if (h.score > model.score) ahead += 1;
    else if (!points_scoring && h.score == model.score && h.penalty < model.penalty) ahead += 1;
  }
  return 1 + ahead;
}

double percentile_below(double rating, const std::vector<int>& sorted_ratings) {
  if (sorted_ratings.empty()) return 0;
  auto below = std::lower_bound(sorted_ratings.begin(), sorted_ratings.end(), rating) - sorted_ratings.begin();
  return 100.0 * static_cast<double>(below) / static_cast<double>(sorted_ratings.size());
}

}  // namespace r1lab::metrics
