// tasks/grading/reasoning_split.h — find the answer region of a reasoning model's completion.
//
// The answer region is the text after the last `</think>`. Policies:
//   required  no `</think>` means the model never left its thinking: unfinished (the default, and the
//             right one whenever the prompt pre-fills `<think>`, as R1-distill chat templates do)
//   none      the model does not think: the whole completion is the answer region
//   auto      as `required` when the prompt or the completion shows a think tag, else as `none`
#pragma once

#include <optional>
#include <string_view>

namespace r1lab::grading {

enum class ThinkPolicy { required, none, automatic };

std::string_view think_policy_name(ThinkPolicy policy);
// Accepts "required", "none", "auto"; throws std::invalid_argument otherwise.
ThinkPolicy think_policy_from_name(std::string_view name);

// nullopt when the completion is unfinished under the policy.
std::optional<std::string_view> answer_region(std::string_view completion, ThinkPolicy policy,
                                              std::string_view prompt = {});

// The content of the last closed <answer>…</answer> in `region`, without surrounding whitespace; nullopt
// when there is none (an unclosed tag does not count). The R1-Zero answer format (rewards, Countdown).
std::optional<std::string_view> last_closed_answer_tag(std::string_view region);

}  // namespace r1lab::grading
