// metrics/pass_at_k.h — unbiased pass@k estimators over per-problem counts.
//
// pass@k for one problem with n samples of which c are correct is the probability that at least one of
// k samples drawn without replacement is correct: 1 - C(n-c, k) / C(n, k). It is computed in product form,
// 1 - prod_{i=n-c+1}^{n} (1 - k/i), which never forms a binomial coefficient and so cannot overflow.
// pass@1 reduces to c/n. Asking for k > n is an error (the estimator is undefined), not a clamp.
#pragma once

#include <cstdint>
#include <stdexcept>

namespace r1lab::metrics {

struct MetricError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws MetricError when n == 0, c > n or k > n or k == 0.
double pass_at_k(std::int64_t n, std::int64_t c, std::int64_t k);

}  // namespace r1lab::metrics
