#include "tasks/grading/latex_parser.h"

#include <gtest/gtest.h>

#include "tasks/grading/latex_normalize.h"

namespace r1lab::grading {
namespace {

std::string tree(const std::string& latex) {
  Budget budget(BudgetLimits{});
  return to_debug_string(*parse_latex(normalize_latex(latex).text, budget));
}

TEST(LatexParser, Structures) {
  EXPECT_EQ(tree("\\frac12"), "(1 / 2)");
  EXPECT_EQ(tree("2x^2"), "(2 * (x ^ 2))");
  EXPECT_EQ(tree("[1, 2)"), "[1, 2)");
  EXPECT_EQ(tree("\\{1,2\\}"), "{1, 2}");
  EXPECT_EQ(tree("1 \\pm \\sqrt{2}"), "(1 +- root(2, 2))");
  EXPECT_EQ(tree("204_5"), "204_5");
  EXPECT_EQ(tree("x \\le 3"), "x le 3");
  EXPECT_EQ(tree("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}"), "matrix2[1, 2, 3, 4]");
  EXPECT_EQ(tree("\\log_2 8"), "log(8, 2)");
}

TEST(LatexParser, RatiosSumsAndProducts) {
  EXPECT_EQ(tree("5:12"), "ratio(5 : 12)");
  EXPECT_EQ(tree("x+1 : 2 : 3"), "ratio((x + 1) : 2 : 3)");       // looser than +
  EXPECT_EQ(tree("x:y = 5 \\colon 12"), "ratio(x : y) = ratio(5 : 12)");  // tighter than =
  EXPECT_EQ(tree("\\sum_{k=1}^{10} k^2"), "sum_k(1, 10, (k ^ 2))");
  EXPECT_EQ(tree("\\prod^{4}_{i=1} i"), "prod_i(1, 4, i)");           // bounds in either order
  EXPECT_EQ(tree("\\sum_{k=1}^{3} 2k + 1"), "(sum_k(1, 3, (2 * k)) + 1)");  // the summand is one term
  EXPECT_EQ(tree("x < -1 \\text{ or } x > 3"), "x < -1 U x > 3");      // "or" between inequalities
  EXPECT_EQ(tree("x = 1 \\text{ or } x = 2"), "x = 1, x = 2");         // elsewhere a list
  Budget budget(BudgetLimits{});
  EXPECT_THROW(parse_latex("\\sum k", budget), ParseError);
  EXPECT_THROW(parse_latex("\\sum_{k}^{3} k", budget), ParseError);
}

TEST(LatexParser, RejectsWhatItDoesNotCover) {
  Budget budget(BudgetLimits{});
  EXPECT_THROW(parse_latex("\\foo{1}", budget), ParseError);
  EXPECT_THROW(parse_latex("(1, 2", budget), ParseError);
  EXPECT_THROW(parse_latex(std::string(100, '(') + "1" + std::string(100, ')'), budget), BudgetExceeded);
}

TEST(LatexNormalize, RecordsPercentAndDegrees) {
  auto n = normalize_latex("50\\%");
  EXPECT_EQ(n.text, "50");
  EXPECT_TRUE(n.had_percent);
  EXPECT_TRUE(normalize_latex("30^\\circ").had_degrees);
  EXPECT_EQ(normalize_latex("$\\dfrac{1}{2}$.").text, "\\frac{1}{2}");
}

}  // namespace
}  // namespace r1lab::grading
