// tasks/grading/math_grader.h — grade one math completion: reasoning split, extraction, equivalence.
#pragma once

#include <string_view>

#include "tasks/grading/grading_options.h"
#include "tasks/grading/verdict.h"

namespace r1lab::grading {

// Never throws for any completion: budget overruns become a `timeout` verdict.
Verdict grade_math(std::string_view completion, std::string_view reference, const MathGradingOptions& options,
                   std::string_view prompt = {});

// Compare two already extracted answers (for `r1lab grade` debugging and cons@k classes); never throws.
Verdict compare_math(std::string_view candidate, std::string_view reference, const MathGradingOptions& options);

}  // namespace r1lab::grading
