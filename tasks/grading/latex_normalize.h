// tasks/grading/latex_normalize.h — string-level clean-up of a LaTeX answer before it is parsed.
//
// Removes what never changes the value: a second level of escaping (every backslash doubled), math
// delimiters, \left/\right, \dfrac/\tfrac (to \frac), spacing commands, degree signs, currency \$, unit words
// in \text{...}, thousands separators, trailing periods. Writes list separators (;, "and", "or", a line
// break outside a matrix) as commas.
// Records what it removed that a policy may care about (a percent sign, degrees).
// It does not evaluate anything; latex_parser.h and math_equivalence.h do.
#pragma once

#include <string>
#include <string_view>

namespace r1lab::grading {

struct NormalizedAnswer {
  std::string text;
  bool had_percent = false;
  bool had_degrees = false;
};

NormalizedAnswer normalize_latex(std::string_view answer);

// Lower-case letters and digits only: the form text answers are compared in ("\text{Evelyn}" -> "evelyn").
// Numbers keep apart ("1, 2" -> "1 2", "3.5" stays "3.5"; "1,000" -> "1000").
std::string normalize_text_answer(std::string_view text);

}  // namespace r1lab::grading
