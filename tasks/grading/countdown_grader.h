// tasks/grading/countdown_grader.h — the Countdown number game (TinyZero's task): an arithmetic expression
// that uses each given number exactly once and evaluates to the target.
//
// The answer is the content of the last <answer>…</answer> in the answer region (an "= 98" tail is
// allowed and ignored). It must consist of integers, + − * / (a unary minus too, as TinyZero's Python eval
// accepts), parentheses and spaces — the characters TinyZero's checker allows; the multiset of its
// integers must equal the given numbers; it is evaluated exactly over the rationals (TinyZero uses float
// eval with a 1e-5 tolerance: every integer target reached exactly is the same verdict, and no rounding
// can make a wrong expression right). Division by zero, a missing number, a number used twice or a
// number not given is `wrong`; no answer tag is `no_answer`.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tasks/grading/grading_options.h"
#include "tasks/grading/verdict.h"

namespace r1lab::grading {

Verdict grade_countdown(std::string_view completion, const std::vector<std::int64_t>& numbers, std::int64_t target,
                        ThinkPolicy think_policy, std::string_view prompt = {});

}  // namespace r1lab::grading
