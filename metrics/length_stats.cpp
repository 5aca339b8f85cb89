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

LengthHistogram length_histogram(const std::vector<double>& correct, const std::vector<double>& other, std::size_t bins) {
  LengthHistogram histogram;
  if (bins == 0 || (correct.empty() && other.empty())) return histogram;
  std::vector<double> all(correct);
  all.insert(all.end(), other.begin(), other.end());
  std::sort(all.begin(), all.end());
  const double longest = percentile_of_sorted(all, 99);
  // The smallest round width whose bins reach past the longest length.
  double width = 1;
  for (double magnitude = 1;; magnitude *= 10) {
    bool found = false;
    for (double step : {1.0, 2.0, 5.0})
      if (step * magnitude * static_cast<double>(bins) > longest) {
        width = step * magnitude;
        found = true;
        break;
      }
    if (found) break;
  }
  for (std::size_t i = 0; i <= bins; ++i) histogram.edges.push_back(width * static_cast<double>(i));
  histogram.correct.assign(bins, 0);
  histogram.other.assign(bins, 0);
  auto bin_of = [&](double v) { return std::min(bins - 1, static_cast<std::size_t>(std::max(0.0, v) / width)); };
  for (double v : correct) ++histogram.correct[bin_of(v)];
  for (double v : other) ++histogram.other[bin_of(v)];
  histogram.beyond_last_edge = static_cast<std::size_t>(all.end() - std::upper_bound(all.begin(), all.end(), histogram.edges.back()));
  return histogram;
}

}  // namespace r1lab::metrics
