// trainer/sft_data.h — SFT training data: JSONL lines turned into token sequences with a loss mask.
//
// Line formats (the first key present decides):
//   {"messages": [{"role", "content"}, ...]}  a conversation (the R1-distill data format, and what
//        rejection sampling writes), rendered with the model's chat template;
//   {"prompt": ..., "completion": ...}        a string pair (a user turn and an assistant turn) or two
//        lists of messages (TRL's conversational prompt-completion format); for a model without a chat
//        template, a string pair is plain text, prompt then completion and EOS, loss on the completion
//        (TRL's standard prompt-completion format: how a base model learns a completion-prompt format);
//   {"text": "..."}                          plain text (with --loss-on all), BOS by the tokenizer's
//        post-processor and EOS appended.
// With loss on assistant tokens, an assistant turn's loss tokens are everything the template renders
// for that turn after the generation prompt (its content, the end-of-turn token and what follows it up
// to the next turn), as TRL's completion mask does for prompt-completion pairs. The rendered text is
// encoded piece by piece at those boundaries; the boundaries fall at special tokens and newlines, where
// the pre-tokenizer splits anyway, so the ids equal those of the whole text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/chat_template.h"

namespace r1lab::trainer {

struct SftExample {
  std::vector<std::int64_t> tokens;
  std::vector<std::uint8_t> target;   // target[i]: token i is predicted (from token i - 1) and counted in the loss
  std::size_t line = 0;               // 1-based line in the data file
  std::int64_t loss_tokens() const;
};

struct SftDataOptions {
  bool loss_on_all = false;
  std::int64_t max_seq_len = 4096;
  bool truncate = false;
  std::int64_t eos_id = -1;           // appended to plain text; -1: none
};

struct SftDataset {
  std::vector<SftExample> examples;
  std::size_t truncated = 0;          // sequences cut at max_seq_len
  std::size_t dropped = 0;            // of those, the ones left with no loss token (not trained on)
};

// Throws std::runtime_error naming file:line (and the JSON path) for a line that is not a conversation,
// has no assistant turn, has nothing to learn, or is too long without `truncate`.
SftDataset load_sft_data(const std::filesystem::path& file, const tokenizer::BpeTokenizer& tokenizer,
                         const tokenizer::ChatFormat* chat, const SftDataOptions& options);

}  // namespace r1lab::trainer
