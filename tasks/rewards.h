// tasks/rewards.h — GRPO's rule-based rewards, made from r1lab's own graders.
//
// R1-Zero is rewarded for accuracy (the answer checker or the test cases) and format (its reasoning in
// think tags, its answer in answer tags). Accuracy here is the verdict of Task::grade, the function
// `r1lab eval` scores with, so RL can never optimise something evaluation does not credit; it is computed
// in the grading worker pool (grading_service.h), where a timeout, a crashed program or an unparsable
// answer is a verdict (reward 0), never a failed step.
//
// With the R1-Zero template (think_answer) only the last closed <answer>…</answer> after </think> is
// graded: the right answer written outside the tags earns nothing, and an empty answer tag is no answer.
// DAPO's soft overlong penalty: 0 up to max − buffer tokens, then falling linearly to −1 at max, −1 for a
// completion cut at max new tokens.
// The R1 paper's language-consistency reward: the share of the reasoning's words that are in the target
// language, against the language mixing RL brings into chains of thought. A word is a run of letters of
// one script; each Han character counts as a word (Chinese has no spaces); digits, symbols and LaTeX
// commands' backslashes are not words, but a command's letters are (\frac is a Latin word, so English
// reasoning with formulas stays English). The target's script: Latin for en, Han for zh. The reasoning is
// the text before the last </think> (all of it when there is none); no words at all scores 0, so empty
// reasoning earns nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tasks/grading/verdict.h"

namespace r1lab::tasks {

enum class FormatRule {
  think_answer,   // "<think> … </think> <answer> … </answer>" and nothing after (the R1-Zero template)
  think,          // one "</think>" then a non-empty answer (a chat model that thinks)
};

FormatRule format_rule_from_name(const std::string& name);   // think-answer, think

enum class Language { en, zh };
Language language_from_name(const std::string& name);   // en, zh

struct RewardSettings {
  FormatRule format = FormatRule::think_answer;
  double accuracy_weight = 1.0;
  double format_weight = 0.0;
  double overlong_weight = 0.0;
  double language_weight = 0.0;
  Language language = Language::en;
  // Code tasks: accuracy is the share of tests passed (grade with every test run) instead of 1 only when
  // all pass. No effect on other tasks.
  bool code_pass_rate = false;
  std::int64_t max_new_tokens = 0;    // for the overlong penalty
  std::int64_t overlong_buffer = 0;   // DAPO's L_cache; 0 turns the penalty off
};

struct Reward {
  double accuracy = 0;    // 1 when the graded answer is correct (code with pass rate: the share of tests passed)
  double format = 0;      // 1 when the completion has the format
  double overlong = 0;    // in [−1, 0]
  double language = 0;    // in [0, 1]: the share of the reasoning's words in the target language
  double total = 0;       // the weighted sum
};

// The text Task::grade should see for accuracy: with think_answer, "</think><answer>CONTENT</answer>" of the
// last closed answer tag after the last </think> (empty when there is none or it is empty, so the grader
// finds no answer); with think, the completion itself.
std::string graded_text(std::string_view completion, FormatRule rule);

// 1 or 0. The completion is what the model wrote after the prompt; a prompt that ends with "<think>" has
// opened the first tag for it (prompt_opened_think).
double format_reward(std::string_view completion, FormatRule rule, bool prompt_opened_think);

double overlong_penalty(std::int64_t completion_tokens, std::int64_t max_new_tokens, std::int64_t buffer);

double language_consistency(std::string_view completion, Language target);

// The components and the total of one sample, from the verdict of graded_text(completion).
Reward combine_reward(const grading::Verdict& verdict, std::string_view completion, std::int64_t completion_tokens,
                      bool prompt_opened_think, const RewardSettings& settings);

}  // namespace r1lab::tasks
