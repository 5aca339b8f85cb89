#include "tasks/grading/math_grader.h"

#include "tasks/grading/math_equivalence.h"
#include "tasks/grading/math_extract.h"
#include "tasks/grading/question_restatement.h"

namespace r1lab::grading {

Verdict compare_math(std::string_view candidate, std::string_view reference, const MathGradingOptions& options,
                     const NameOrders& question_orders) {
  Verdict verdict;
  verdict.extracted = std::string(candidate);
  Budget budget(options.limits);
  try {
    AnswerComparison comparison = compare_math_answers(candidate, reference, options, budget, question_orders);
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

namespace {

// A reference that is a solution (a box, an answer tag, a GSM8K "#### 72" line, a Minerva final answer)
// stands for the answer it states; any other reference is the answer as written (normalised on comparison).
std::string reference_answer(std::string_view reference) {
  auto stated = extract_reference_answer(reference);
  return stated ? *stated : std::string(reference);
}

}  // namespace

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
  if (extracted->method == ExtractionMethod::fallback)
    candidate = fallback_compared_text(candidate, is_relation_answer(expected, Budget(options.limits)));
  // Named values ("b = -13, m = 2") take the order of the tuple the question asks for ("$(m,b)$").
  NameOrders question_orders;
  if (!question.empty() && candidate.find('=') != std::string::npos)
    question_orders = question_name_orders(question, Budget(options.limits));
  Verdict verdict = compare_math(candidate, expected, options, question_orders);
  if (verdict.is_correct() && restates_question(candidate, expected, question, options.limits)) {
    verdict.kind = VerdictKind::wrong;
    verdict.reason = "restates an expression of the question (equal by value, not evaluated)";
  }
  verdict.reason = std::string(extraction_method_name(extracted->method)) + ": " + verdict.reason;
  return verdict;
}

}  // namespace r1lab::grading
