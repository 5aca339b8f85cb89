#include "tasks/grading/math_grader.h"

#include "tasks/grading/math_equivalence.h"
#include "tasks/grading/math_extract.h"
#include "tasks/grading/question_restatement.h"

namespace r1lab::grading {

namespace {

Verdict compare_within(std::string_view candidate, std::string_view reference, const MathGradingOptions& options,
                       std::string_view question, const Budget& budget) {
  Verdict verdict;
  verdict.extracted = std::string(candidate);
  try {
    AnswerComparison comparison = compare_math_answers(candidate, reference, options, budget, question);
    verdict.kind = comparison.equal ? VerdictKind::correct : VerdictKind::wrong;
    verdict.canonical = comparison.candidate_canonical;
    verdict.reason = comparison.reason;
  } catch (const BudgetExceeded& exceeded) {
    verdict.kind = VerdictKind::timeout;
    verdict.reason = exceeded.what();
  } catch (const std::bad_alloc&) {
    verdict.kind = VerdictKind::timeout;
    verdict.reason = "out of memory while comparing";
  } catch (const std::exception& error) {
    verdict.kind = VerdictKind::wrong;
    verdict.reason = std::string("comparison failed: ") + error.what();
  }
  return verdict;
}

// A reference that is a solution (a box, an answer tag, a GSM8K "#### 72" line, a Minerva final answer)
// stands for the answer it states; any other reference is the answer as written (normalised on comparison).
std::string reference_answer(std::string_view reference) {
  auto stated = extract_reference_answer(reference);
  return stated ? *stated : std::string(reference);
}

}  // namespace

Verdict compare_math(std::string_view candidate, std::string_view reference, const MathGradingOptions& options,
                     std::string_view question) {
  return compare_within(candidate, reference, options, question, Budget(options.limits));
}

Verdict grade_math(std::string_view completion, std::string_view reference, const MathGradingOptions& options,
                   std::string_view prompt, std::string_view question) {
  auto region = answer_region(completion, options.think_policy, prompt);
  if (!region)
    return verdict_before_comparison(VerdictKind::unfinished, "no </think>: still thinking (think policy " +
                                                                  std::string(think_policy_name(options.think_policy)) + ")");
  auto extracted = extract_math_answer(*region, options.fallback_extraction);
  if (!extracted) return verdict_before_comparison(VerdictKind::no_answer, "no boxed answer, answer tag or answer phrase");
  std::string expected = reference_answer(reference);
  std::string candidate = extracted->text;
  // One budget for the whole call: comparison and the restatement check share its deadline.
  Budget budget(options.limits);
  if (extracted->method == ExtractionMethod::fallback)
    candidate = fallback_compared_text(candidate, is_relation_answer(expected, budget));
  Verdict verdict = compare_within(candidate, expected, options, question, budget);
  if (verdict.is_correct()) {
    std::string restated = restatement(candidate, expected, question, budget);
    if (!restated.empty()) {
      verdict.kind = VerdictKind::wrong;
      verdict.reason = restated;
    }
  }
  verdict.reason = std::string(extraction_method_name(extracted->method)) + ": " + verdict.reason;
  return verdict;
}

}  // namespace r1lab::grading
