// tasks/grading/budget.h — the deadline and size limits of one grading call.
//
// No grading call may hang or exhaust memory. Every stage checks the budget cooperatively (the parser at
// each node, the algebra before each costly step) and throws BudgetExceeded, which the grader turns into a
// `timeout` verdict. Callers add a hard backstop: graders run in worker processes that are killed at a
// second, larger deadline (grading_pool.h), so even a bug here cannot stall a run.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>

namespace r1lab::grading {

struct BudgetExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct BudgetLimits {
  std::chrono::milliseconds deadline{2000};
  std::size_t max_answer_chars = 4000;        // longer "answers" are refused
  int max_nesting_depth = 64;                 // brackets/braces/fractions
  long max_integer_power_bits = 200000;       // |exponent| * log2|base| of an exact power
  long max_factorial_argument = 5000;         // n! evaluated exactly up to this n
  int max_symbolic_expand_exponent = 40;      // (a+b)^n expanded only up to this n
  long max_sum_terms = 10000;                 // terms of \sum and \prod evaluated, nested ones counted
};

class Budget {
 public:
  explicit Budget(const BudgetLimits& limits)
      : limits_(limits), deadline_(std::chrono::steady_clock::now() + limits.deadline) {}

  const BudgetLimits& limits() const { return limits_; }

  void check(const char* stage) const {
    if (std::chrono::steady_clock::now() > deadline_)
      throw BudgetExceeded(std::string("deadline of ") + std::to_string(limits_.deadline.count()) +
                           " ms exceeded during " + stage);
  }

 private:
  BudgetLimits limits_;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace r1lab::grading
