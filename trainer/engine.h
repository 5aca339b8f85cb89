// trainer/engine.h — batched generation with a KV cache: prompts of different lengths in one batch (left
// padded), per-sample sampling parameters and seeds, stop strings and stop token ids, and the logprob of
// every sampled token (what GRPO needs from the old policy).
//
// Continuous batching: at most max_batch sequences decode together; when rows finish, the next specs are
// prefilled (each distinct prompt once: samples that share a prompt share its prefill) and take the
// finished rows in place (KvCache::place_rows; a prompt longer than the slots written so far joins at the
// end instead, KvCache::append_rows), so a long tail no longer idles the batch while work waits.
// Once every spec has been taken, finished rows leave the batch when they are a quarter of it. A
// sequence's tokens depend only on its spec and seed (the sampler draws from (seed, step)), not on what
// else is in the batch or when it joined: continuous and one-batch generation give the same outputs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/bpe_tokenizer.h"
#include "trainer/causal_lm.h"
#include "trainer/decode_steps.h"
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

// How newly admitted prompts are prefilled: `padded`, one left-padded batch (attention under a mask;
// fastest on a CPU); `by_length`, prompts of one length together, unpadded (plain causal attention, which
// takes SDPA's flash kernel on a GPU), their caches then joined. `automatic`: by_length on CUDA. Both
// give the same sequences.
enum class PrefillLayout { automatic, padded, by_length };

class Engine {
 public:
  // `decode`: how decode steps run (trainer/decode_steps.h; automatic: CUDA graphs on CUDA).
  Engine(const CausalLM& model, const tokenizer::BpeTokenizer& tokenizer, PrefillLayout prefill = PrefillLayout::automatic,
         DecodeMode decode = DecodeMode::automatic)
      : model_(model), tokenizer_(tokenizer), prefill_(prefill), decode_(decode) {}
  // Generates every spec, at most max_batch at a time (0: all at once). Returns early with what it has
  // when `stop` turns true (the unfinished sequences then have finish_reason "abort").
  std::vector<GeneratedSequence> generate(const std::vector<GenerationSpec>& specs, const std::atomic<bool>* stop = nullptr,
                                          std::int64_t max_batch = 0) const;
  // The same, streaming: pulls specs from `next` (nullopt: no more) as rows free up, and hands each
  // finished sequence to `done` with its pull index, in the order they finish. On `stop`, the sequences
  // decoding are handed over with finish_reason "abort" and nothing more is pulled.
  void stream(const std::function<std::optional<GenerationSpec>()>& next, std::int64_t max_batch,
              const std::function<void(std::size_t index, GeneratedSequence&& sequence)>& done,
              const std::atomic<bool>* stop = nullptr) const;

 private:
  const CausalLM& model_;
  const tokenizer::BpeTokenizer& tokenizer_;
  PrefillLayout prefill_;
  DecodeMode decode_;
};

}  // namespace r1lab::trainer
