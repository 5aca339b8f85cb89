// metrics/length_stats.h — the distribution of response lengths: what reasoning-model users read beside
// accuracy (how long the model thinks, and whether wrong answers are the long ones).
//
// Percentiles interpolate linearly between order statistics, as numpy.percentile's default does, so the
// median of an even count is the mean of the middle two.
#pragma once

#include <cstddef>
#include <vector>

namespace r1lab::metrics {

struct LengthStats {
  std::size_t count = 0;
  double mean = 0, median = 0, p90 = 0, max = 0;   // all 0 when count is 0
};

LengthStats length_stats(std::vector<double> lengths);

// The q-th percentile (0..100) of sorted values, interpolated linearly; 0 for none.
double percentile_of_sorted(const std::vector<double>& sorted, double q);

}  // namespace r1lab::metrics
