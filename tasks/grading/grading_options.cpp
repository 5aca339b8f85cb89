#include "tasks/grading/grading_options.h"

#include <nlohmann/json.hpp>

namespace r1lab::grading {

namespace {
nlohmann::json limits_json(const BudgetLimits& limits) {
  return {{"deadline_ms", limits.deadline.count()},
          {"max_answer_chars", limits.max_answer_chars},
          {"max_nesting_depth", limits.max_nesting_depth},
          {"max_integer_power_bits", limits.max_integer_power_bits},
          {"max_factorial_argument", limits.max_factorial_argument},
          {"max_symbolic_expand_exponent", limits.max_symbolic_expand_exponent},
          {"max_sum_terms", limits.max_sum_terms}};
}
}  // namespace

nlohmann::json to_json(const MathGradingOptions& options) {
  return {{"think_policy", think_policy_name(options.think_policy)},
          {"fallback_extraction", options.fallback_extraction},
          {"unreduced_fractions", options.unreduced_fractions == UnreducedFractionPolicy::accept ? "accept" : "reject"},
          {"percent", options.percent == PercentPolicy::strip ? "strip" : "either"},
          {"float_rel_tol", options.float_rel_tol},
          {"symbolic_rel_tol", options.symbolic_rel_tol},
          {"integer_answers", options.integer_answers},
          {"limits", limits_json(options.limits)}};
}

nlohmann::json to_json(const ChoiceGradingOptions& options) {
  return {{"think_policy", think_policy_name(options.think_policy)},
          {"letters", std::string("A-") + options.last_letter}};
}

}  // namespace r1lab::grading
