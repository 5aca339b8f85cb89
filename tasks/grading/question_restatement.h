// tasks/grading/question_restatement.h — an answer that only restates the question's own expression.
//
// "Evaluate $(1+2i)6-3i$." answered with `(1+2i)6-3i` equals the reference 6+9i by value, and graders that
// compare values credit it (Math-Verify and Qwen's math_equal both do). Under RL that is a reward a policy
// can collect on every "compute", "evaluate", "simplify" or "express as" problem without solving it. So a
// correct-by-value answer is marked wrong when, written out, it is one of the question's expressions: the
// contents of a math span of the question ($...$, $$...$$, \(...\), \[...\]) or a side of an equation in
// one, compared after normalisation (spacing, \left/\right, \dfrac, \frac12 for \frac{1}{2}, closing
// punctuation: whatever normalize_latex removes). An equation whose last side is one ("z = (1+2i)6-3i")
// restates it too. Otherwise only a copy is caught: "((1+2i)6-3i)" is graded by value.
//
// Against a reference without a trigonometric or logarithmic function value, an answer whose last side
// still writes out one of the question's function values, compared by value (function_value_keys in
// math_equivalence.h), has not evaluated it either: "\sin 100^\circ" kept in a rewritten "Simplify
// $\tan 100^\circ + 4 \sin 100^\circ$."; "\cos 72^\circ = \frac{\sqrt5-1}{4}" has evaluated it.
//
// Never a restatement:
//   - a value already in simplest form, which the question may state by coincidence: a number, a single
//     letter or symbol, a fraction in lowest terms, an integer times \pi or a square-free root, over an
//     integer in lowest terms (`3`, `-3.5`, `\frac{2}{3}` for "Which is largest: $\frac23$, $0.6$?",
//     `\frac{\sqrt{2}}{2}`, `\frac{2\pi}{3}`), and an equation naming one (`x = 3`, also when the question
//     says "$x = 3$");
//   - the reference as written ("Which is larger, $2^{10}$ or $10^3$?" with reference `2^{10}`).
// The rule holds in every extraction mode: a boxed restatement is no more an answer than a fallback one.
#pragma once

#include <string>
#include <string_view>

#include "tasks/grading/budget.h"

namespace r1lab::grading {

// Why `answer`, equal to `reference` by value, only restates `question` (the problem statement): one of its
// expressions, or one of its function values unevaluated. Empty when it does not (or the question is
// empty). Cheap for a plain answer: the question is only read for one that is not. Never throws; out of
// budget, a function value found too late is not held against the answer.
std::string restatement(std::string_view answer, std::string_view reference, std::string_view question,
                        const Budget& budget);

}  // namespace r1lab::grading
