// tasks/grading/grading_options.h — every policy choice of the graders, in one place.
//
// Each field is a decision that graders in the wild make silently and differently. Here each is explicit,
// has a documented default, can be set from the command line, and is written into results.json
// (to_json) so a score always says how it was obtained.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "tasks/grading/budget.h"
#include "tasks/grading/reasoning_split.h"

namespace r1lab::grading {

enum class UnreducedFractionPolicy { accept, reject };  // is 2/4 an acceptable answer for 1/2?
enum class PercentPolicy { strip, either };             // 50\% == 50 only, or also == 0.5

struct MathGradingOptions {
  ThinkPolicy think_policy = ThinkPolicy::required;
  bool fallback_extraction = false;   // opt-in: last LaTeX span / last number when nothing anchored
  UnreducedFractionPolicy unreduced_fractions = UnreducedFractionPolicy::accept;
  PercentPolicy percent = PercentPolicy::strip;
  // Relative tolerance when either side is written as a decimal (3.1416 vs \pi). Exact answers are
  // compared exactly, or numerically at 50 digits with symbolic_rel_tol.
  double float_rel_tol = 1e-6;
  double symbolic_rel_tol = 1e-30;
  bool integer_answers = false;       // AIME: the answer must be an exact integer
  BudgetLimits limits;
};

struct ChoiceGradingOptions {
  ThinkPolicy think_policy = ThinkPolicy::required;
  char last_letter = 'D';             // letters A..last_letter are valid
};

nlohmann::json to_json(const MathGradingOptions& options);
nlohmann::json to_json(const ChoiceGradingOptions& options);

}  // namespace r1lab::grading
