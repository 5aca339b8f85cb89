#include "tasks/rewards.h"

#include <algorithm>
#include <stdexcept>

#include "tasks/grading/reasoning_split.h"
#include "tasks/text_trim.h"
#include "tasks/text_utf8.h"

namespace r1lab::tasks {

Language language_from_name(const std::string& name) {
  if (name == "en") return Language::en;
  if (name == "zh") return Language::zh;
  throw std::invalid_argument("unknown language '" + name + "'; use en or zh");
}

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

namespace {

enum class Script { none, latin, han, other };

// Letters by script, by code-point block: Latin (ASCII, Latin-1 and Latin Extended letters), Han (CJK
// ideographs), and the letters of other scripts (Greek, Cyrillic, Arabic, kana, Hangul, ...). Digits,
// punctuation, spaces, symbols and the punctuation blocks are no script.
Script script_of(char32_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Script::latin;
  if (c < 0xC0 || c == 0xD7 || c == 0xF7) return Script::none;
  if (c <= 0x24F || (c >= 0x1E00 && c <= 0x1EFF)) return Script::latin;
  if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
      (c >= 0x20000 && c <= 0x2FA1F))
    return Script::han;
  const bool punctuation_or_symbol = (c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
                                     (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF20) ||
                                     (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
                                     (c >= 0x1F000 && c <= 0x1FAFF) || c == 0xFFFD || c == kInvalidByte;
  return punctuation_or_symbol ? Script::none : Script::other;
}

}  // namespace

double language_consistency(std::string_view completion, Language target) {
  const std::size_t think_end = completion.rfind(kThinkClose);
  const std::string_view reasoning = think_end == std::string_view::npos ? completion : completion.substr(0, think_end);
  const Script wanted = target == Language::zh ? Script::han : Script::latin;
  std::size_t words = 0, in_target = 0;
  Script current = Script::none;   // the script of the word being read
  for (std::size_t at = 0; at < reasoning.size();) {
    if (reasoning.compare(at, kThinkOpen.size(), kThinkOpen) == 0) {   // the tag is not a word of the reasoning
      at += kThinkOpen.size();
      current = Script::none;
      continue;
    }
    const CodePoint c = decode_utf8(reasoning, at);
    at += c.length;
    const Script script = script_of(c.value);
    // A Han character is a word by itself; other scripts' words end where the script changes.
    if (script != Script::none && (script == Script::han || script != current)) {
      ++words;
      in_target += script == wanted;
    }
    current = script;
  }
  return words == 0 ? 0.0 : static_cast<double>(in_target) / static_cast<double>(words);
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
  if (settings.code_pass_rate && verdict.tests_total > 0)
    reward.accuracy = static_cast<double>(std::max(0, verdict.tests_passed)) / static_cast<double>(verdict.tests_total);
  reward.format = format_reward(completion, settings.format, prompt_opened_think);
  reward.overlong = overlong_penalty(completion_tokens, settings.max_new_tokens, settings.overlong_buffer);
  if (settings.language_weight != 0) reward.language = language_consistency(completion, settings.language);
  reward.total = settings.accuracy_weight * reward.accuracy + settings.format_weight * reward.format +
                 settings.overlong_weight * reward.overlong + settings.language_weight * reward.language;
  return reward;
}

}  // namespace r1lab::tasks
