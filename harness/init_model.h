// harness/init_model.h — `r1lab train init-model`: a new, randomly initialised Qwen2-architecture model
// folder with a small byte-level BPE vocabulary learned from a corpus (tokenizer/bpe_trainer.h).
//
// What it is for: models small enough to train on a CPU in minutes (the GRPO learning experiment, the
// trainer's tests, TRL comparisons), whose vocabulary does not dwarf them. The folder is a Hugging Face
// folder like any other (config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
// model.safetensors): transformers opens it, and every r1lab command uses it. No chat template: prompts
// are completion prompts (train grpo --prompt-format r1-zero; SFT prompt-completion pairs are plain text).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace r1lab::harness {

struct InitModelOptions {
  std::string out;
  std::vector<std::string> corpus;     // text or JSONL files (every string value of a JSON line is text)
  std::int64_t merges = 400;
  std::int64_t hidden_size = 128, intermediate_size = 384, layers = 4, heads = 4, kv_heads = 2;
  std::int64_t max_positions = 2048;
  double rope_theta = 10000;
  std::uint64_t seed = 0;
};

// Writes everything but the weights into `dir` (the caller's staging folder, renamed to --out once the
// weights are in); returns how many tokens the vocabulary has.
std::int64_t write_model_files(const InitModelOptions& options, const std::filesystem::path& dir);

}  // namespace r1lab::harness
