// tasks/grading/verdict.h — the outcome of grading one sample.
//
// An expected per-sample failure (no answer, still thinking, over budget) is a verdict, not an exception.
#pragma once

#include <string>
#include <string_view>

namespace r1lab::grading {

enum class VerdictKind {
  correct,
  wrong,
  no_answer,    // finished, but nothing could be extracted (graded wrong)
  unfinished,   // still inside its thinking: no answer region at all (graded wrong)
  timeout,      // the grading call hit its deadline or a size limit (graded wrong, counted apart)
  grader_error, // the grader could not decide (code: the sandbox failed); graded wrong, counted apart
};

std::string_view verdict_kind_name(VerdictKind kind);
// Throws std::invalid_argument for an unknown name.
VerdictKind verdict_kind_from_name(std::string_view name);

struct Verdict {
  VerdictKind kind = VerdictKind::no_answer;
  std::string extracted;   // the answer as found in the completion ("" when none)
  std::string canonical;   // the normalised form that was compared (class key for cons@k)
  std::string reason;      // one line: why this verdict
  std::string status;      // code tasks: the execution status (ok, wrong_answer, time_limit, ...); else ""
  // Code tasks whose program ran: tests passed of the problem's tests (those after a first failure count
  // as not passed unless every test was run: --all-tests); -1 otherwise.
  int tests_passed = -1, tests_total = -1;

  bool is_correct() const { return kind == VerdictKind::correct; }
};

// A verdict reached before anything was compared (nothing extracted, no answer region, a failed job).
inline Verdict verdict_before_comparison(VerdictKind kind, std::string reason, std::string extracted = "") {
  Verdict verdict;
  verdict.kind = kind;
  verdict.extracted = std::move(extracted);
  verdict.reason = std::move(reason);
  return verdict;
}

}  // namespace r1lab::grading
