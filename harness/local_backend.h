// harness/local_backend.h — how the harness reaches the built-in engine without depending on LibTorch.
//
// The engine lives in a plugin, libr1lab_trainer.so (trainer/, built with R1LAB_WITH_TORCH), which the
// r1lab binary loads with dlopen only when a command needs it (`eval --backend builtin`, `generate`, `train`).
// So every other command starts without loading LibTorch (half a second of shared libraries), works
// where LibTorch is absent, and never mixes the torch wheel's copies of libstdc++ functions into its own.
// Without the plugin, the commands that need it say how to build it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "harness/backend.h"
#include "harness/grpo_environment.h"
#include "harness/train_options.h"

namespace r1lab::harness {

struct LocalBackendOptions {
  std::string model_dir;            // a Hugging Face folder: config.json, safetensors, tokenizer.json
  std::string device = "cpu";       // cpu, cuda, cuda:N
  std::string dtype = "auto";       // auto, float32, bfloat16, float16
  std::string chat_template;        // empty: recognised from chat_template.jinja / tokenizer_config.json
  bool chat = true;                 // render prompts with the chat template (false: completion prompts as is)
  int max_batch = 64;               // samples decoded together
};

// `r1lab generate`: its flags are declared by the harness (so --help needs no plugin) and run by the plugin.
struct GenerateOptions {
  LocalBackendOptions model;
  std::string input = "-", output = "-";
  double temperature = 0.6, top_p = 0.95;
  std::int64_t top_k = 0, max_new_tokens = 512;
  int n = 1;
  std::uint64_t seed = 0;
  std::vector<std::string> stop;
  bool ignore_eos = false;
  bool static_batches = false;   // fixed batches one after another, no continuous batching (for comparison)
};

// What the plugin exports, as `extern "C" const TrainerEntry* r1lab_trainer_entry()`. Bump the version
// when this struct or the types it passes change.
constexpr int kTrainerEntryVersion = 4;
struct TrainerEntry {
  int version;
  std::unique_ptr<GenerationBackend> (*make_backend)(const LocalBackendOptions& options);
  void (*run_generate)(const GenerateOptions& options);
  void (*run_train_sft)(const SftOptions& options);   // throws on failure; a stop by signal exits the process
  void (*run_train_grpo)(const GrpoOptions& options, GrpoEnvironment& environment);   // the same
  // Random initial weights for the model folder `dir` (its config.json), written as model.safetensors.
  void (*init_model_weights)(const std::string& dir, std::uint64_t seed);
};

// Loads the plugin (once). Throws std::runtime_error with the build command when there is none.
const TrainerEntry& trainer_entry();
std::unique_ptr<GenerationBackend> make_local_backend(const LocalBackendOptions& options);

}  // namespace r1lab::harness
