// GRPO's rewards (tasks/rewards.h): the edge cases that reward hacking and crashed steps come from.
#include "tasks/rewards.h"

#include <gtest/gtest.h>

#include "tasks/grading/grading_pool.h"
#include "tasks/grading/math_grader.h"

namespace r1lab::tasks {
namespace {

// Accuracy as a GRPO step computes it: the math grader on graded_text(completion).
grading::Verdict grade(const std::string& completion, const std::string& reference, FormatRule rule = FormatRule::think_answer) {
  grading::MathGradingOptions options;
  options.think_policy = grading::ThinkPolicy::required;
  return grading::grade_math(graded_text(completion, rule), reference, options);
}

Reward reward_of(const std::string& completion, const std::string& reference, std::int64_t tokens = 10,
                 RewardSettings settings = {}) {
  settings.format_weight = 0.5;
  return combine_reward(grade(completion, reference, settings.format), completion, tokens, false, settings);
}

TEST(Rewards, TheRightAnswerInTheRightFormatEarnsBoth) {
  Reward r = reward_of("<think> 2 + 3 = 5 </think> <answer> 5 </answer>", "5");
  EXPECT_EQ(r.accuracy, 1);
  EXPECT_EQ(r.format, 1);
  EXPECT_EQ(r.total, 1.5);
  // A boxed answer inside the tag is fine.
  EXPECT_EQ(reward_of("<think>so</think><answer>\\boxed{5}</answer>", "5").accuracy, 1);
}

TEST(Rewards, EmptyAndMisplacedAnswersEarnNothing) {
  // An empty completion.
  Reward empty = reward_of("", "5");
  EXPECT_EQ(empty.total, 0);
  // Answer tags with nothing inside.
  Reward hollow = reward_of("<think> hmm </think> <answer> </answer>", "5");
  EXPECT_EQ(hollow.accuracy, 0);
  EXPECT_EQ(hollow.format, 0);
  // The right answer outside the tags (a wrong one inside, or none).
  EXPECT_EQ(reward_of("<think> it is 5 </think> <answer> 4 </answer> \\boxed{5}", "5").accuracy, 0);
  EXPECT_EQ(reward_of("<think> it is 5 </think> The answer is \\boxed{5}.", "5").accuracy, 0);
  EXPECT_EQ(reward_of("<think> <answer>5</answer> </think>", "5").accuracy, 0);   // inside the thinking
  // Text after the answer block breaks the format, not the accuracy.
  Reward trailing = reward_of("<think>x</think><answer>5</answer> and more", "5");
  EXPECT_EQ(trailing.accuracy, 1);
  EXPECT_EQ(trailing.format, 0);
  // Two think blocks, or an answer before the thinking: no format reward.
  EXPECT_EQ(format_reward("<think>a</think><think>b</think><answer>5</answer>", FormatRule::think_answer, false), 0);
  EXPECT_EQ(format_reward("<answer>5</answer><think>a</think>", FormatRule::think_answer, false), 0);
  // The template opened <think> for the model.
  EXPECT_EQ(format_reward(" a </think> <answer>5</answer>", FormatRule::think_answer, true), 1);
  EXPECT_EQ(format_reward(" a </think> <answer>5</answer>", FormatRule::think_answer, false), 0);
}

TEST(Rewards, ACompletionCutAtMaxTokensIsUnfinishedAndPenalised) {
  RewardSettings settings;
  settings.max_new_tokens = 100;
  settings.overlong_buffer = 20;
  settings.overlong_weight = 1;
  Reward cut = reward_of("<think> still going and going", "5", 100, settings);
  EXPECT_EQ(cut.accuracy, 0);
  EXPECT_EQ(cut.format, 0);
  EXPECT_EQ(cut.overlong, -1);
  EXPECT_EQ(cut.total, -1);
  EXPECT_EQ(overlong_penalty(80, 100, 20), 0);
  EXPECT_DOUBLE_EQ(overlong_penalty(90, 100, 20), -0.5);
  EXPECT_EQ(overlong_penalty(99, 100, 0), 0);   // no buffer: no penalty
}

TEST(Rewards, AGraderThatNeverEndsIsAZeroRewardNotAFailedStep) {
  grading::PoolOptions pool;
  pool.workers = 1;
  pool.hard_deadline = std::chrono::milliseconds(300);
  auto verdicts = grading::grade_in_worker_processes(2, pool, [](std::size_t i) {
    if (i == 0)
      for (volatile bool forever = true; forever;) {
      }
    return grade("<think>x</think><answer>5</answer>", "5");
  });
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].verdict.kind, grading::VerdictKind::timeout);
  EXPECT_EQ(combine_reward(verdicts[0].verdict, "<think>x</think><answer>5</answer>", 8, false, {}).total, 0);
  EXPECT_EQ(combine_reward(verdicts[1].verdict, "<think>x</think><answer>5</answer>", 8, false, {}).total, 1);
}

TEST(Rewards, NamesAreChecked) {
  EXPECT_EQ(format_rule_from_name("think"), FormatRule::think);
  EXPECT_THROW(format_rule_from_name("tags"), std::invalid_argument);
  EXPECT_EQ(language_from_name("zh"), Language::zh);
  EXPECT_THROW(language_from_name("fr"), std::invalid_argument);
}

TEST(Rewards, LanguageConsistencyIsTheShareOfTheReasoningsWordsInTheTargetLanguage) {
  // English reasoning with a formula stays English (\frac is a Latin word, digits are no words).
  EXPECT_DOUBLE_EQ(language_consistency("<think>We need \\frac{3}{4} of 12, so 9.</think> <answer>9</answer>", Language::en), 1.0);
  // Mixed: 4 English words and 2 Han characters in the reasoning; the answer after </think> is not counted.
  const std::string mixed = "<think>so the sum \xe6\x98\xaf\xe4\xb9\x9d now</think><answer>\xe4\xb9\x9d</answer>";
  EXPECT_DOUBLE_EQ(language_consistency(mixed, Language::en), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(language_consistency(mixed, Language::zh), 2.0 / 6.0);
  // Other scripts are words too (Cyrillic), and a word ends where its script changes.
  EXPECT_DOUBLE_EQ(language_consistency("one \xd0\xb4\xd0\xb2\xd0\xb0 three</think>", Language::en), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(language_consistency("ab\xd0\xb4\xd0\xb2</think>", Language::en), 1.0 / 2.0);
  // No words, or no reasoning: nothing to reward (empty thinking must not pay).
  EXPECT_EQ(language_consistency("<think> 1 + 1 = 2 </think><answer>2</answer>", Language::en), 0.0);
  EXPECT_EQ(language_consistency("", Language::en), 0.0);
  // Weighted into the total only when asked for.
  RewardSettings settings;
  settings.language_weight = 0.5;
  auto reward = combine_reward(grade(mixed, "9"), mixed, 20, false, settings);
  EXPECT_DOUBLE_EQ(reward.language, 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(reward.total, reward.accuracy + 0.5 * 4.0 / 6.0);
  EXPECT_EQ(combine_reward(grade(mixed, "9"), mixed, 20, false, {}).language, 0.0);
}

}  // namespace
}  // namespace r1lab::tasks
