// trainer/engine.h — batched generation with a KV cache: prompts of different lengths in one batch (left
// padded), per-sample sampling parameters and seeds, stop strings and stop token ids, and the logprob of
// every sampled token (what GRPO needs from the old policy).
//
// A batch is prefilled in one forward pass (each distinct prompt once: samples that share a prompt share
// its prefill), then decoded one token per step for every unfinished row.
// Finished rows leave the batch (the cache is compacted) once they are a quarter of it, so long tails
// cost only what the unfinished rows need. New work does not join a running batch (no continuous
// batching): callers should hand over batches of similar lengths.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/bpe_tokenizer.h"
#include "trainer/causal_lm.h"
#include "trainer/sampler.h"

namespace r1lab::trainer {

struct GenerationSpec {
  std::vector<std::int64_t> prompt;         // token ids
  RowSampling sampling;
  std::int64_t max_new_tokens = 256;
  std::vector<std::string> stop;            // the text ends before the first occurrence
  std::vector<std::int64_t> stop_token_ids; // in addition to the model's EOS ids
  bool ignore_eos = false;
};

struct GeneratedSequence {
  std::vector<std::int64_t> tokens;   // sampled ids, including the EOS / stop token that ended it
  std::vector<float> logprobs;        // one per token, at temperature 1 (the model's own distribution)
  std::vector<float> sampling_logprobs;   // one per token, at the sampling temperature (sampler.h)
  std::string text;                   // decoded bytes, cut before a stop string; EOS and stop tokens are not text
  std::string finish_reason;          // "stop" (EOS, stop token or string) or "length"
};

class Engine {
 public:
  Engine(const CausalLM& model, const tokenizer::BpeTokenizer& tokenizer) : model_(model), tokenizer_(tokenizer) {}
  // Generates every spec in one batch. Returns early with what it has when `stop` turns true (the
  // unfinished sequences then have finish_reason "abort").
  std::vector<GeneratedSequence> generate(const std::vector<GenerationSpec>& specs,
                                          const std::atomic<bool>* stop = nullptr) const;

 private:
  const CausalLM& model_;
  const tokenizer::BpeTokenizer& tokenizer_;
};

}  // namespace r1lab::trainer
