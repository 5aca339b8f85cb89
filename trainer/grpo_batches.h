// trainer/grpo_batches.h — a GRPO step's sequences as micro-batches whose prompts are computed once.
//
// The G samples of a group share their prompt, which is most of each sequence in short-answer RL (R1-Zero
// prompts of ~100 tokens, answers of ~20). Packed one sequence after another, the training forward and
// backward compute the prompt G times. Here a row holds the prompt once and then the group's completions,
// each attending to the prompt and to itself (DocumentLayout::build_shared_prefix): the same logprobs
// to rounding, a fraction of the tokens. A group whose completions do not fit one row continues in the
// next row, with its prompt again.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "trainer/sft_batches.h"

namespace r1lab::trainer {

struct PromptGroup {
  const std::vector<std::int64_t>* prompt = nullptr;
  std::vector<std::size_t> sequences;                              // the step's sequence index of each completion
  std::vector<const std::vector<std::int64_t>*> completions;       // the tokens each sequence adds to the prompt
};

// Micro-batches of at most `token_budget` tokens (rows x the longest row, padding included); each
// MicroBatch's `examples` are sequence indices, and its targets are their completion tokens in that order
// (the first predicted from the prompt's last token). Throws std::invalid_argument when a prompt and one
// completion alone exceed the budget.
std::vector<MicroBatch> make_shared_prompt_micro_batches(const std::vector<PromptGroup>& groups, std::int64_t token_budget,
                                                         at::Device device);

}  // namespace r1lab::trainer
