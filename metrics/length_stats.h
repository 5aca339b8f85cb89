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

// Counts of correct and other answers' lengths in `bins` equal bins from 0 to a round upper edge (a bin
// width of 1, 2 or 5 times a power of ten) past the 99th percentile of all lengths: the response-length
// histogram of the HTML report. One runaway answer (43k characters among answers of 1k) would otherwise
// squeeze every other into the first bin; the few past the last edge are counted in the last bin and
// reported apart. A length equal to an inner edge counts in the bin above it. No lengths: no bins.
struct LengthHistogram {
  std::vector<double> edges;                  // bins + 1, ascending, from 0
  std::vector<std::size_t> correct, other;    // bins each
  std::size_t beyond_last_edge = 0;           // lengths past edges.back(), counted in the last bin
};
LengthHistogram length_histogram(const std::vector<double>& correct, const std::vector<double>& other,
                                 std::size_t bins = 20);

// The q-th percentile (0..100) of sorted values, interpolated linearly; 0 for none.
double percentile_of_sorted(const std::vector<double>& sorted, double q);

}  // namespace r1lab::metrics
