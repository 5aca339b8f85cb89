#include "metrics/pass_at_k.h"

#include <string>

namespace r1lab::metrics {

double pass_at_k(std::int64_t n, std::int64_t c, std::int64_t k) {
  if (n <= 0) throw MetricError("pass@k: n must be positive, got " + std::to_string(n));
  if (c < 0 || c > n)
    throw MetricError("pass@k: correct count " + std::to_string(c) + " is outside [0, n=" + std::to_string(n) + "]");
  if (k <= 0) throw MetricError("pass@k: k must be positive, got " + std::to_string(k));
  if (k > n)
    throw MetricError("pass@" + std::to_string(k) + " needs at least " + std::to_string(k) +
                      " samples per problem, but there are only n=" + std::to_string(n) +
                      "; generate more samples or lower k");
  // Fewer wrong samples than k: every draw of k contains a correct one.
  if (n - c < k) return 1.0;
  double all_wrong = 1.0;
  for (std::int64_t i = n - c + 1; i <= n; ++i) all_wrong *= 1.0 - static_cast<double>(k) / static_cast<double>(i);
  return 1.0 - all_wrong;
}

}  // namespace r1lab::metrics
