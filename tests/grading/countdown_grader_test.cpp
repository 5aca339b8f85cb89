// The Countdown grader: each given number exactly once, exact arithmetic, the last answer tag.
#include "tasks/grading/countdown_grader.h"

#include <gtest/gtest.h>

namespace r1lab::grading {
namespace {

VerdictKind grade(const std::string& completion, std::vector<std::int64_t> numbers, std::int64_t target) {
  return grade_countdown(completion, numbers, target, ThinkPolicy::none).kind;
}

TEST(Countdown, EachNumberOnceReachingTheTarget) {
  EXPECT_EQ(grade("<answer> 44 + 19 + 35 </answer>", {44, 19, 35}, 98), VerdictKind::correct);
  EXPECT_EQ(grade("<answer>(44 - 35) * 19</answer>", {44, 19, 35}, 171), VerdictKind::correct);
  EXPECT_EQ(grade("<answer>44 + 19 + 35 = 98</answer>", {44, 19, 35}, 98), VerdictKind::correct);   // "= target" tail
  // Exact rationals: (3 / 7 + 1) * 7 = 10, where float evaluation would be 9.999...
  EXPECT_EQ(grade("<answer>(3 / 7 + 1) * 7</answer>", {3, 7, 1, 7}, 10), VerdictKind::correct);
  // The last answer tag counts.
  EXPECT_EQ(grade("<answer>44 + 19</answer> no: <answer>44 + 19 + 35</answer>", {44, 19, 35}, 98), VerdictKind::correct);
  // A unary minus, as TinyZero's eval accepts.
  EXPECT_EQ(grade("<answer>-44 + 19 * 35 - 0</answer>", {44, 19, 35, 0}, 621), VerdictKind::correct);
}

TEST(Countdown, NearMissesStayWrong) {
  EXPECT_EQ(grade("<answer>44 + 19 + 35</answer>", {44, 19, 35}, 97), VerdictKind::wrong);       // another value
  EXPECT_EQ(grade("<answer>44 + 44 + 10</answer>", {44, 19, 35}, 98), VerdictKind::wrong);       // a number twice
  EXPECT_EQ(grade("<answer>44 + 54</answer>", {44, 19, 35}, 98), VerdictKind::wrong);            // a number not given
  EXPECT_EQ(grade("<answer>79 + 19</answer>", {44, 19, 35}, 98), VerdictKind::wrong);            // one left out
  EXPECT_EQ(grade("<answer>44 / (19 - 19) + 35</answer>", {44, 19, 19, 35}, 98), VerdictKind::wrong);   // division by zero
  EXPECT_EQ(grade("<answer>44 + 19 + 35 + </answer>", {44, 19, 35}, 98), VerdictKind::wrong);    // malformed
  EXPECT_EQ(grade("<answer>44 x 19</answer>", {44, 19}, 836), VerdictKind::wrong);               // not an operator here
  EXPECT_EQ(grade("<answer>(((((44 + 19 + 35</answer>", {44, 19, 35}, 98), VerdictKind::wrong);  // unclosed
  EXPECT_EQ(grade("<answer>99999999999999999999 - 1</answer>", {1}, 1), VerdictKind::wrong);     // too long a number
  EXPECT_EQ(grade("<answer>3 / 2</answer>", {3, 2}, 1), VerdictKind::wrong);                     // 3/2 is not 1
}

TEST(Countdown, NoAnswerAndUnfinished) {
  EXPECT_EQ(grade("44 + 19 + 35 = 98", {44, 19, 35}, 98), VerdictKind::no_answer);
  EXPECT_EQ(grade("<answer> </answer>", {44, 19, 35}, 98), VerdictKind::no_answer);
  EXPECT_EQ(grade_countdown("<think> 44 + 19 + 35 <answer>44+19+35</answer>", {44, 19, 35}, 98, ThinkPolicy::required).kind,
            VerdictKind::unfinished);
  EXPECT_EQ(grade_countdown("<think>sum</think> <answer>44+19+35</answer>", {44, 19, 35}, 98, ThinkPolicy::required).kind,
            VerdictKind::correct);
}

}  // namespace
}  // namespace r1lab::grading
