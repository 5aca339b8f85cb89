// harness/local_backend.h — how the harness reaches the built-in engine without depending on LibTorch:
// trainer/ registers a factory at start-up (in builds with R1LAB_WITH_TORCH), and `r1lab eval --backend
// builtin` asks for it here. Without LibTorch no factory is registered and the command says how to get one.
#pragma once

#include <memory>
#include <string>

#include "harness/backend.h"

namespace r1lab::harness {

struct LocalBackendOptions {
  std::string model_dir;            // a Hugging Face folder: config.json, safetensors, tokenizer.json
  std::string device = "cpu";       // cpu, cuda, cuda:N
  std::string dtype = "auto";       // auto, float32, bfloat16, float16
  std::string chat_template;        // empty: recognised from tokenizer_config.json
  bool chat = true;                 // render prompts with the chat template (false: completion prompts as is)
  int max_batch = 64;               // samples decoded together
};

using LocalBackendFactory = std::unique_ptr<GenerationBackend> (*)(const LocalBackendOptions&);

void register_local_backend(LocalBackendFactory factory);
// Throws std::runtime_error with the rebuild command when this binary has no engine.
std::unique_ptr<GenerationBackend> make_local_backend(const LocalBackendOptions& options);

}  // namespace r1lab::harness
