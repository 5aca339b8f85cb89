// tasks/grading/math_equivalence.h — decide whether two math answers are the same answer.
//
// Pipeline: normalise both strings (latex_normalize.h); identical -> equal. Otherwise parse both into
// trees (latex_parser.h) and compare by structure:
//   scalars      exact rationals exactly; otherwise the symbolic difference (GiNaC) and, failing that,
//                numeric evaluation at 50 digits (relative tolerance symbolic_rel_tol, or float_rel_tol
//                when either side is written as a decimal); with free variables, evaluation at several
//                points, and both sides must use the same variables
//   x = v        an assignment (a name, or a label: f(2) = 5, \tan A = 2) is compared by its value when the
//                other side is not an equation, also
//                inside lists (PQ = 3, RS = 8 equals 3, 8); (a, b) = (2, 5) and x:y = 5:12 name a tuple, a ratio;
//                x = 3, y = 4 names the components of (3, 4): in the order a tuple of the question names
//                them ($(m,b)$), else only when written in the usual order (alphabetical, \phi after \theta)
//   a = b = c    a chain of equal expressions is its last side when the other side is not an equation
//                (\binom{8}{4} = 70 equals 70); every earlier side must equal it, so x^2 - 5x + 6 = 0 is
//                not 0 and 2 + 3 = 6 is not 6
//   ratios       a:b equals c:d when ad = bc, and the number a/b (as Math-Verify); a:b:c when proportional
//   \pm          expands to the set of both values
//   tuples       ordered, same brackets; an interval is a 2-tuple whose brackets give its openness
//   sets, lists  unordered; two sets ignore repeats, against a bare list they count (a multiset); several boxes
//                joined by "and" are a list
//   unions       of intervals, unordered
//   matrices     same shape, equal entries
//   equations    equal when (l1 - r1) / (l2 - r2) is a non-zero constant
//   inequalities one inequality, or a chain of two, linear in one variable becomes an interval (x > 2 and
//                -x < -2 equal (2, \infty)); "or" between inequalities is a union
//   \sum \prod   with integer bounds, evaluated term by term (at most max_sum_terms terms)
//   base numbers 204_5 equals 204_{5}, never its decimal value
//   choices      against a choice reference (\text{(B)}), "(B) 3(1 + r/10)^x = 7" or "B. ..." is choice B,
//                and against a reference "B. ..." a bare B or \text{(B)} is; "(B) or (C)" is none
//   text         \text{...} answers compare as lower-case letters and digits (choice letters too), against
//                words, letters, numbers or lists of them only (a+b is no match for \text{A,B})
// Never hangs: the Budget bounds time, nesting, exact powers and factorials (BudgetExceeded).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tasks/grading/grading_options.h"

namespace r1lab::grading {

struct AnswerComparison {
  bool equal = false;
  std::string reason;             // why (one line)
  std::string candidate_canonical;
};

// Throws BudgetExceeded when the comparison runs out of budget. `question`, the problem statement, is read
// only when a list of named values ("b = -13, m = 2") meets a tuple: the values go in the order of the
// question's tuple of those names.
AnswerComparison compare_math_answers(std::string_view candidate, std::string_view reference,
                                      const MathGradingOptions& options, const Budget& budget,
                                      std::string_view question = {});

// True when the answer is an equation or inequality (after normalising and parsing); false when it is
// anything else or does not parse. Never throws.
bool is_relation_answer(std::string_view answer, const Budget& budget);

// A key that equal answers usually share (exact values print identically); used to group votes for
// cons@k before the remaining groups are merged with compare_math_answers.
std::string canonical_math_answer(std::string_view answer, const Budget& budget);

// The trigonometric and logarithmic function values an expression writes out, each as its evaluated form
// prints ("\sin 100^\circ", "\sin\frac{5\pi}{9}" and "\sin(100^\circ)" all give "sin(5/9*Pi)"); special values
// that evaluate away ("\sin 30^\circ") are none. Empty when the expression does not parse. Never throws.
std::vector<std::string> function_value_keys(std::string_view expression, const Budget& budget);

}  // namespace r1lab::grading
