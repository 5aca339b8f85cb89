#include "metrics/length_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace r1lab::metrics {

double percentile_of_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double position = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

LengthStats length_stats(std::vector<double> lengths) {
  LengthStats s;
  s.count = lengths.size();
  if (lengths.empty()) return s;
  std::sort(lengths.begin(), lengths.end());
  s.mean = std::accumulate(lengths.begin(), lengths.end(), 0.0) / static_cast<double>(lengths.size());
  s.median = percentile_of_sorted(lengths, 50);
  s.p90 = percentile_of_sorted(lengths, 90);
  s.max = lengths.back();
  return s;
}

}  // namespace r1lab::metrics
