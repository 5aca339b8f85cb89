// tasks/grading/choice_grader.h — multiple-choice answers (GPQA).
//
// Extraction: the last `Answer: X` (case-insensitive; tolerant of markdown bold, parentheses, $, \boxed{X},
// \text{X} and a lower-case letter); else the letter after the last committing phrase ("answer", "option"
// or "choice", up to four lower-case words with "is" or "be" among them, the letter: "the answer is clearly
// C, not A or D"; "not" before the letter commits to nothing); else a last line that opens with the letter ("C. It cannot be B"); else a
// standalone letter A..D at the very end of the answer region, unless "not" precedes it. In prose only an
// upper-case letter counts (a lower-case "a" is an article).
// The letter is then mapped back through the sample's permutation to the original choice.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "tasks/grading/grading_options.h"
#include "tasks/grading/verdict.h"

namespace r1lab::grading {

// The letter (upper case) found in the answer region, if any.
std::optional<char> extract_choice_letter(std::string_view region, char last_letter = 'D');

// `permutation[shown] = original`: the choice shown as letter A+shown is the original choice number
// `original` (0 = the correct answer in GPQA's unshuffled file). `correct_original` is the original index
// of the right answer.
Verdict grade_choice(std::string_view completion, const std::array<int, 4>& permutation, int correct_original,
                     const ChoiceGradingOptions& options, std::string_view prompt = {});

}  // namespace r1lab::grading
