#include "tasks/grading/choice_permutation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace r1lab::grading {
namespace {

TEST(ChoicePermutation, IsAPermutationAndDeterministic) {
  for (std::uint64_t sample = 0; sample < 50; ++sample) {
    auto p = choice_permutation(0, "recABC", sample);
    auto sorted = p;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::array<int, 4>{0, 1, 2, 3}));
    EXPECT_EQ(p, choice_permutation(0, "recABC", sample));
  }
}

// Fixed values: the shuffle is part of the task version and must be the same on every platform.
TEST(ChoicePermutation, PinnedValues) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  auto p0 = choice_permutation(0, "rec06pnAkLOr2t2mp", 0);
  auto p1 = choice_permutation(0, "rec06pnAkLOr2t2mp", 1);
  EXPECT_NE(p0, p1);
  EXPECT_EQ(p0, choice_permutation(0, "rec06pnAkLOr2t2mp", 0));
}

TEST(ChoicePermutation, CorrectAnswerPositionIsUniform) {
  std::map<int, int> position_of_correct;
  const int samples = 24000;
  for (int s = 0; s < samples; ++s) {
    auto p = choice_permutation(7, "q" + std::to_string(s % 97), static_cast<std::uint64_t>(s));
    for (int shown = 0; shown < 4; ++shown)
      if (p[shown] == 0) position_of_correct[shown]++;
  }
  for (int shown = 0; shown < 4; ++shown) EXPECT_NEAR(position_of_correct[shown], samples / 4, samples / 4 * 0.05);
}

}  // namespace
}  // namespace r1lab::grading
