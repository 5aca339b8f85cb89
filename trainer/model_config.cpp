#include "trainer/model_config.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace r1lab::trainer {
namespace {

using Json = nlohmann::json;

Json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open (a model folder needs config.json and safetensors weights)");
  try {
    return Json::parse(in);
  } catch (const Json::exception& e) {
    throw std::runtime_error(file.string() + ": not valid JSON: " + e.what());
  }
}

std::int64_t required_int(const Json& config, const char* key, const std::filesystem::path& file) {
  if (!config.contains(key) || !config[key].is_number_integer()) {
    throw std::runtime_error(file.string() + ": $." + key + " is missing or not an integer");
  }
  return config[key].get<std::int64_t>();
}

void add_ids(const Json& value, std::vector<std::int64_t>& ids) {
  if (value.is_number_integer()) ids.push_back(value.get<std::int64_t>());
  if (value.is_array()) {
    for (const Json& v : value) {
      if (v.is_number_integer()) ids.push_back(v.get<std::int64_t>());
    }
  }
}

}  // namespace

ModelConfig ModelConfig::load(const std::filesystem::path& model_dir) {
  const std::filesystem::path file = model_dir / "config.json";
  Json config = read_json(file);
  ModelConfig c;
  c.source = config;
  c.model_dir = model_dir;
  std::string model_type = config.value("model_type", "");
  if (model_type == "qwen2") {
    c.family = ModelFamily::qwen2;
    c.qkv_bias = true;
  } else if (model_type == "llama") {
    c.family = ModelFamily::llama;
    c.qkv_bias = c.o_bias = config.value("attention_bias", false);
    c.mlp_bias = config.value("mlp_bias", false);
  } else {
    throw std::runtime_error(file.string() + ": $.model_type is '" + model_type + "'; r1lab implements qwen2 and llama");
  }
  c.vocab_size = required_int(config, "vocab_size", file);
  c.hidden_size = required_int(config, "hidden_size", file);
  c.intermediate_size = required_int(config, "intermediate_size", file);
  c.num_layers = required_int(config, "num_hidden_layers", file);
  c.num_heads = required_int(config, "num_attention_heads", file);
  c.num_kv_heads = config.contains("num_key_value_heads") && !config["num_key_value_heads"].is_null()
                       ? required_int(config, "num_key_value_heads", file) : c.num_heads;
  c.head_dim = config.contains("head_dim") && config["head_dim"].is_number_integer()
                   ? config["head_dim"].get<std::int64_t>() : c.hidden_size / c.num_heads;
  if (c.num_heads % c.num_kv_heads != 0) {
    throw std::runtime_error(file.string() + ": $.num_attention_heads must be a multiple of $.num_key_value_heads");
  }
  c.max_position_embeddings = config.value("max_position_embeddings", std::int64_t{32768});
  c.rms_norm_eps = config.value("rms_norm_eps", 1e-6);
  c.tie_word_embeddings = config.value("tie_word_embeddings", false);
  // transformers 5 writes "dtype", 4.x "torch_dtype".
  if (config.contains("dtype") && config["dtype"].is_string()) c.torch_dtype = config["dtype"];
  else if (config.contains("torch_dtype") && config["torch_dtype"].is_string()) c.torch_dtype = config["torch_dtype"];

  // RoPE: rope_theta at the top (4.x) or in rope_parameters (5.x); scaling in rope_scaling or rope_parameters.
  Json rope = config.contains("rope_parameters") && config["rope_parameters"].is_object() ? config["rope_parameters"]
              : config.contains("rope_scaling") && config["rope_scaling"].is_object()    ? config["rope_scaling"]
                                                                                           : Json::object();
  c.rope_theta = rope.value("rope_theta", config.value("rope_theta", 10000.0));
  std::string rope_type = rope.value("rope_type", rope.value("type", std::string("default")));
  if (rope_type == "llama3") {
    c.rope_scaling.llama3 = true;
    c.rope_scaling.factor = rope.value("factor", 8.0);
    c.rope_scaling.low_freq_factor = rope.value("low_freq_factor", 1.0);
    c.rope_scaling.high_freq_factor = rope.value("high_freq_factor", 4.0);
    c.rope_scaling.original_max_position_embeddings = rope.value("original_max_position_embeddings", std::int64_t{8192});
  } else if (rope_type != "default") {
    throw std::runtime_error(file.string() + ": RoPE type '" + rope_type + "' is not implemented (default, llama3)");
  }
  if (config.value("use_sliding_window", false)) {
    throw std::runtime_error(file.string() + ": $.use_sliding_window is true; sliding-window attention is not implemented");
  }
  if (std::string act = config.value("hidden_act", std::string("silu")); act != "silu") {
    throw std::runtime_error(file.string() + ": $.hidden_act is '" + act + "'; only silu is implemented");
  }

  add_ids(config.value("eos_token_id", Json()), c.eos_token_ids);
  if (std::filesystem::exists(model_dir / "generation_config.json")) {
    add_ids(read_json(model_dir / "generation_config.json").value("eos_token_id", Json()), c.eos_token_ids);
  }
  std::sort(c.eos_token_ids.begin(), c.eos_token_ids.end());
  c.eos_token_ids.erase(std::unique(c.eos_token_ids.begin(), c.eos_token_ids.end()), c.eos_token_ids.end());
  return c;
}

}  // namespace r1lab::trainer
