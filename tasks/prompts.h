// tasks/prompts.h — prompt wording shared by tasks (the paper's protocol).
#pragma once

#include <string>
#include <string_view>

#include "tasks/task.h"

namespace r1lab::tasks {

// DeepSeek-R1 evaluation protocol for math: the problem, a newline, then this instruction.
inline constexpr std::string_view kMathInstruction =
    "Please reason step by step, and put your final answer within \\boxed{}.";

// Wraps a question in the chosen template: `paper` leaves it as is; `r1_zero` is the R1-Zero training
// template (DeepSeek-R1 paper, Table 1), which asks for <think> and <answer> tags.
std::string apply_template(PromptTemplate t, const std::string& question);

}  // namespace r1lab::tasks
