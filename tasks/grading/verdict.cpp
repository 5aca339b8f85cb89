#include "tasks/grading/verdict.h"

#include <stdexcept>
#include <string>

namespace r1lab::grading {

std::string_view verdict_kind_name(VerdictKind kind) {
  switch (kind) {
    case VerdictKind::correct: return "correct";
    case VerdictKind::wrong: return "wrong";
    case VerdictKind::no_answer: return "no_answer";
    case VerdictKind::unfinished: return "unfinished";
    case VerdictKind::timeout: return "timeout";
    case VerdictKind::grader_error: return "grader_error";
  }
  return "wrong";
}

VerdictKind verdict_kind_from_name(std::string_view name) {
  for (auto kind : {VerdictKind::correct, VerdictKind::wrong, VerdictKind::no_answer, VerdictKind::unfinished,
                    VerdictKind::timeout, VerdictKind::grader_error})
    if (verdict_kind_name(kind) == name) return kind;
  throw std::invalid_argument("unknown verdict '" + std::string(name) + "'");
}

}  // namespace r1lab::grading
