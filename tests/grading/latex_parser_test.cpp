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
