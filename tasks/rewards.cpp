#include "tasks/rewards.h"

#include <algorithm>
#include <stdexcept>

#include "tasks/grading/reasoning_split.h"
#include "tasks/text_trim.h"

namespace r1lab::tasks {

FormatRule format_rule_from_name(const std::string& name) {
  if (name == "think-answer") return FormatRule::think_answer;
  if (name == "think") return FormatRule::think;
  throw std::invalid_argument("unknown format rule '" + name + "'; use think-answer or think");
}

namespace {

constexpr std::string_view kThinkOpen = "<think>", kThinkClose = "</think>";
constexpr std::string_view kAnswerOpen = "<answer>", kAnswerClose = "</answer>";

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

std::string graded_text(std::string_view completion, FormatRule rule) {
  if (rule == FormatRule::think) return std::string(completion);
  std::size_t think_end = completion.rfind(kThinkClose);
  if (think_end == std::string_view::npos) return "";
  auto content = grading::last_closed_answer_tag(completion.substr(think_end + kThinkClose.size()));
  if (!content || content->empty()) return "";
  return std::string(kThinkClose) + std::string(kAnswerOpen) + std::string(*content) + std::string(kAnswerClose);
}

double format_reward(std::string_view completion, FormatRule rule, bool prompt_opened_think) {
  std::string text = (prompt_opened_think ? std::string(kThinkOpen) : std::string()) + std::string(completion);
  std::string_view t(text);
  if (count(t, kThinkOpen) != 1 || count(t, kThinkClose) != 1) return 0;
  std::size_t open = t.find(kThinkOpen), close = t.find(kThinkClose);
  if (close < open || !trim(t.substr(0, open)).empty()) return 0;
  std::string_view after = t.substr(close + kThinkClose.size());
  if (rule == FormatRule::think) return trim(after).empty() ? 0 : 1;
  // think_answer: exactly one answer block right after the thinking, non-empty, and nothing after it.
  std::string rest = trim(after);
  std::string_view r(rest);
  if (count(r, kAnswerOpen) != 1 || count(r, kAnswerClose) != 1) return 0;
  if (r.substr(0, kAnswerOpen.size()) != kAnswerOpen) return 0;
  if (r.size() < kAnswerClose.size() || r.substr(r.size() - kAnswerClose.size()) != kAnswerClose) return 0;
  std::string_view inner = r.substr(kAnswerOpen.size(), r.size() - kAnswerOpen.size() - kAnswerClose.size());
  return trim(inner).empty() ? 0 : 1;
}

double overlong_penalty(std::int64_t completion_tokens, std::int64_t max_new_tokens, std::int64_t buffer) {
  if (buffer <= 0 || max_new_tokens <= 0) return 0;
  const std::int64_t free_length = max_new_tokens - buffer;
  if (completion_tokens <= free_length) return 0;
  if (completion_tokens >= max_new_tokens) return -1;
  return static_cast<double>(free_length - completion_tokens) / static_cast<double>(buffer);
}

Reward combine_reward(const grading::Verdict& verdict, std::string_view completion, std::int64_t completion_tokens,
                      bool prompt_opened_think, const RewardSettings& settings) {
  Reward reward;
  reward.accuracy = verdict.is_correct() ? 1 : 0;
  reward.format = format_reward(completion, settings.format, prompt_opened_think);
  reward.overlong = overlong_penalty(completion_tokens, settings.max_new_tokens, settings.overlong_buffer);
  reward.total = settings.accuracy_weight * reward.accuracy + settings.format_weight * reward.format +
                 settings.overlong_weight * reward.overlong;
  return reward;
}

}  // namespace r1lab::tasks
