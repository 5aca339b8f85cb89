// metrics/codeforces_rating.h — a model's Codeforces rating from its results in real contests, as CodeElo
// (Quan et al. 2025) estimates it.
//
// Per contest: the model's score against the human standings gives its rank; the rating is the integer r
// at which the Elo-expected rank of a contestant rated r,
//     expected_rank(r) = 1 + sum_i 1 / (1 + 10^((r - r_i) / 400))     (r_i: the humans' ratings)
// equals that rank (binary search; expected_rank falls as r rises). The model's rating is the mean over
// contests. The DeepSeek-R1 paper does not publish its exact formula; this is CodeElo's method.
// Scoring: where problems have points, a solved problem scores its points minus 50 per failed attempt
// before the accepted one (floored at 0); else (ICPC style) the score is the number solved and each
// failed attempt on a solved problem adds 10 penalty minutes (the model's solving time counts as 0).
#pragma once

#include <optional>
#include <vector>

namespace r1lab::metrics {

double expected_rank(double rating, const std::vector<double>& human_ratings);

// The integer rating whose expected rank is closest to `rank` (1 = first place), within [lo, hi].
int rating_for_rank(double rank, const std::vector<double>& human_ratings, int lo = -1000, int hi = 5000);

struct ProblemAttempts {
  double points = 0;              // 0 in ICPC-style contests
  std::optional<int> solved_on;   // 1-based attempt that was accepted; nullopt: never
};

struct ContestScore {
  double score = 0;               // points, or problems solved
  double penalty = 0;             // ICPC style only
};
ContestScore score_contest(const std::vector<ProblemAttempts>& problems, bool points_scoring);

struct HumanResult {
  double rating = 0;
  double score = 0;
  double penalty = 0;
};
// 1 + the number of humans strictly ahead (more score, or equal score and less penalty).
double rank_in_standings(const ContestScore& model, const std::vector<HumanResult>& humans, bool points_scoring);

// Share of `sorted_ratings` (ascending) strictly below `rating`, in percent.
double percentile_below(double rating, const std::vector<int>& sorted_ratings);

}  // namespace r1lab::metrics
