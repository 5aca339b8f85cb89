// tasks/grading/math_grader.h — grade one math completion: reasoning split, extraction, equivalence.
#pragma once

#include <string_view>

#include "tasks/grading/grading_options.h"
#include "tasks/grading/math_equivalence.h"
#include "tasks/grading/verdict.h"

namespace r1lab::grading {

// A reference that is a solution stands for the answer it states (extract_reference_answer in
// math_extract.h: a box, an answer tag, a GSM8K "#### 72" line, a Minerva final answer); any other
// reference is the answer as written.
// Never throws for any completion: budget overruns become a `timeout` verdict. `question` is the problem
// statement: an answer that restates one of its expressions is wrong even when it equals the reference by
// value (question_restatement.h).
Verdict grade_math(std::string_view completion, std::string_view reference, const MathGradingOptions& options,
                   std::string_view prompt = {}, std::string_view question = {});

// Compare two already extracted answers (for `r1lab grade` debugging and cons@k classes); never throws.
// `question` orders named values (compare_math_answers in math_equivalence.h).
Verdict compare_math(std::string_view candidate, std::string_view reference, const MathGradingOptions& options,
                     std::string_view question = {});

}  // namespace r1lab::grading
