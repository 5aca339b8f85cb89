#include "tasks/grading/choice_grader.h"

#include <string>

#include "tasks/grading/choice_extract.h"
#include "tasks/grading/reasoning_split.h"

namespace r1lab::grading {

Verdict grade_choice(std::string_view completion, const std::array<int, 4>& permutation, int correct_original,
                     const ChoiceGradingOptions& options, std::string_view prompt, std::string_view question) {
  auto region = answer_region(completion, options.think_policy, prompt);
  if (!region) return verdict_before_comparison(VerdictKind::unfinished, "no </think>: still thinking");
  ChoiceExtraction extraction = extract_choice(*region, options.last_letter, question);
  if (!extraction.letter) return verdict_before_comparison(VerdictKind::no_answer, extraction.how);
  char letter = *extraction.letter;
  int shown = letter - 'A';
  if (shown < 0 || shown >= static_cast<int>(permutation.size()))
    return verdict_before_comparison(VerdictKind::wrong, "letter outside the choices", std::string(1, letter));
  int original = permutation[shown];
  Verdict verdict;
  verdict.extracted = std::string(1, letter);
  verdict.canonical = "choice" + std::to_string(original);
  verdict.kind = original == correct_original ? VerdictKind::correct : VerdictKind::wrong;
  verdict.reason = extraction.how + ": letter " + letter + " is original choice " + std::to_string(original) +
                   (verdict.is_correct() ? " (the correct one)" : "");
  return verdict;
}

}  // namespace r1lab::grading
