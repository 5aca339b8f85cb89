// tasks/grading/choice_grader.h — multiple-choice answers (GPQA).
//
// Which letter the answer commits to: choice_extract.h. The letter is then mapped back through the
// sample's permutation to the original choice.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "tasks/grading/choice_extract.h"
#include "tasks/grading/grading_options.h"
#include "tasks/grading/verdict.h"

namespace r1lab::grading {

// `permutation[shown] = original`: the choice shown as letter A+shown is the original choice number
// `original` (0 = the correct answer in GPQA's unshuffled file). `correct_original` is the original index
// of the right answer. `question` is the question and its options (extract_choice in choice_extract.h).
Verdict grade_choice(std::string_view completion, const std::array<int, 4>& permutation, int correct_original,
                     const ChoiceGradingOptions& options, std::string_view prompt = {}, std::string_view question = {});

}  // namespace r1lab::grading
