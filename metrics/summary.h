// metrics/summary.h — mean and standard error over per-problem scores.
//
// Every benchmark metric here is a mean over problems of a per-problem score (c/n for pass@1, the pass@k
// estimate, 0/1 for cons@k). Its standard error is the sample standard deviation over problems (ddof = 1)
// divided by sqrt(number of problems); with one problem it is reported as 0.
#pragma once

#include <vector>

namespace r1lab::metrics {

struct MeanWithError {
  double mean = 0.0;
  double standard_error = 0.0;
  std::size_t count = 0;
};

MeanWithError mean_with_error(const std::vector<double>& per_problem);

}  // namespace r1lab::metrics
