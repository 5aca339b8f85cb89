// tasks/grading/latex_parser.h — parse a normalised LaTeX answer into an expression tree.
//
// Covers what competition answers are written in: numbers (integers, decimals), letters and Greek
// letters, + - \pm \mp, * \cdot \times / \div, implicit multiplication, powers (x^{..}, x^2, 2^10),
// \frac{a}{b} and \frac12, \sqrt[n]{x}, \binom, factorial, |x|, \sin..\arctan, \ln, \log_b, \exp,
// tuples and intervals ( ( [ ] ) mixed ), sets \{..\}, bare comma lists, \cup unions, matrices
// (pmatrix/bmatrix/matrix), relations (= < > \le \ge \ne), ratios (5:12, 1:2:3; looser than + and -,
// tighter than relations), \sum and \prod with an index and both bounds (\sum_{k=1}^{10} k^2: the
// summand is the product that follows, so \sum_{k=1}^{3} k + 1 is (1+2+3) + 1), base subscripts (204_5),
// \text{...}.
// A number right after a lone number, a space between, joins it as TeX sets them ("3 4" is 34, "1 000 000"
// a million); after a power, a fraction, a group or a product juxtaposition multiplies ("2^5 3^2",
// "2 \cdot 3 4" is 24). Anything else is a ParseError; the grader then falls back to comparing normalised
// strings.
// The parser checks the budget at every node, and limits nesting depth.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/grading/budget.h"

namespace r1lab::grading {

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class NodeKind {
  number,       // text: the literal ("12", "0.5")
  symbol,       // text: the name ("x", "pi", "alpha", "x_1")
  infinity,
  add,          // children summed
  multiply,     // children multiplied; text kApplied for a letter written right before a parenthesis,
                //   "f(2)": a product, and also a function's value when it labels one ("f(2) = 5")
  divide,       // children[0] / children[1]
  negate,
  power,        // children[0] ^ children[1]
  function,     // text: name (sin, cos, tan, cot, sec, csc, asin, acos, atan, ln, log, exp, abs, sqrt,
                //        floor, ceil); log with two children is log base children[1]
  root,         // children[0] = radicand, children[1] = index
  factorial,
  binomial,
  plus_minus,   // children[0] \pm children[1]   (text "pm" or "mp")
  tuple,        // text: two characters, the opening and closing bracket: "()", "[]", "(]", "[)"
  set,          // \{ ... \}
  list,         // a bare comma list at the top level
  interval_union,
  matrix,       // rows x cols children, row-major; rows in `rows`
  relation,     // children joined by the operators in `operators` (a chain like a < x \le b)
  ratio,        // children: the parts of a:b or a:b:c
  sum,          // text: the index name; children: lower bound, upper bound, summand
  product,      // as sum, for \prod
  base_number,  // text: digits, children[0]: the base as a number node (204_5)
  text,         // text: the words of a \text{...} answer
};

inline constexpr const char* kApplied = "applied";

struct Node {
  NodeKind kind;
  std::string text;
  std::vector<std::unique_ptr<Node>> children;
  std::vector<std::string> operators;  // relation only: "=", "<", ">", "le", "ge", "ne"
  int rows = 0;                        // matrix only

  explicit Node(NodeKind k, std::string t = {}) : kind(k), text(std::move(t)) {}
};

using NodePtr = std::unique_ptr<Node>;

// Throws ParseError (unsupported or malformed) or BudgetExceeded.
NodePtr parse_latex(std::string_view normalized, const Budget& budget);

// A compact, unambiguous rendering of a tree (for debugging and tests).
std::string to_debug_string(const Node& node);

}  // namespace r1lab::grading
