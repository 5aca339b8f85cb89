#include "metrics/summary.h"

#include <cmath>

namespace r1lab::metrics {

MeanWithError mean_with_error(const std::vector<double>& per_problem) {
  MeanWithError out;
  out.count = per_problem.size();
  if (per_problem.empty()) return out;
  double sum = 0.0;
  for (double x : per_problem) sum += x;
  out.mean = sum / static_cast<double>(per_problem.size());
  if (per_problem.size() < 2) return out;
  double squares = 0.0;
  for (double x : per_problem) squares += (x - out.mean) * (x - out.mean);
  double variance = squares / static_cast<double>(per_problem.size() - 1);
  out.standard_error = std::sqrt(variance / static_cast<double>(per_problem.size()));
  return out;
}

}  // namespace r1lab::metrics
