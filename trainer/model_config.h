// trainer/model_config.h — the architecture of a Hugging Face causal LM folder (config.json), for the two
// families r1lab implements: Qwen2 (Qwen2.5, R1-Distill-Qwen) and Llama (Llama 3, R1-Distill-Llama).
// Everything the forward pass depends on is here; anything in config.json that would change the maths
// and that we do not implement (sliding windows, other RoPE scalings) is an error, never ignored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1lab::trainer {

enum class ModelFamily { qwen2, llama };

struct RopeScaling {
  bool llama3 = false;   // otherwise none
  double factor = 1;
  double low_freq_factor = 1;
  double high_freq_factor = 4;
  std::int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  ModelFamily family = ModelFamily::qwen2;
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_layers = 0;
  std::int64_t num_heads = 0;
  std::int64_t num_kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000;
  RopeScaling rope_scaling;
  bool qkv_bias = false;     // Qwen2: always; Llama: attention_bias
  bool o_bias = false;       // Llama attention_bias also covers o_proj
  bool mlp_bias = false;     // Llama mlp_bias
  bool tie_word_embeddings = false;
  std::string torch_dtype = "float32";     // as stored
  std::vector<std::int64_t> eos_token_ids;   // config.json and generation_config.json together

  nlohmann::json source;   // config.json as read, written back on save
  std::filesystem::path model_dir;   // the folder it was read from

  // Reads DIR/config.json (and generation_config.json for eos ids). Throws std::runtime_error naming the
  // file and the key.
  static ModelConfig load(const std::filesystem::path& model_dir);
};

}  // namespace r1lab::trainer
