#include "harness/init_model.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "harness/atomic_file.h"
#include "tokenizer/bpe_trainer.h"

namespace r1lab::harness {
namespace {

void collect_strings(const nlohmann::json& value, std::vector<std::string>& out) {
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_array() || value.is_object()) {
    for (const auto& item : value) collect_strings(item, out);
  }
}

std::vector<std::string> read_corpus(const std::vector<std::string>& files) {
  std::vector<std::string> texts;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error(file + ": cannot open the --corpus file");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object() || j.is_array()) {
        collect_strings(j, texts);
      } else {
        texts.push_back(line + "\n");
      }
    }
  }
  if (texts.empty()) throw std::runtime_error("--corpus: no text to learn the vocabulary from");
  return texts;
}

}  // namespace

std::int64_t write_model_files(const InitModelOptions& o, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (o.hidden_size % o.heads != 0) throw std::invalid_argument("--hidden-size must be a multiple of --heads");
  if (o.kv_heads < 1 || o.heads % o.kv_heads != 0) throw std::invalid_argument("--heads must be a multiple of --kv-heads");
  if (o.merges < 0 || o.layers < 1 || o.intermediate_size < 1 || o.max_positions < 2) throw std::invalid_argument("sizes must be positive");
  fs::create_directories(dir);

  const std::string eos = "<|endoftext|>";
  tokenizer::BpeVocabulary vocabulary = tokenizer::learn_bpe(read_corpus(o.corpus), static_cast<std::size_t>(o.merges), {eos});
  const auto eos_id = static_cast<std::int64_t>(vocabulary.tokens.size());
  const auto vocab_size = eos_id + 1;
  write_file_atomically(dir / "tokenizer.json", tokenizer::tokenizer_json(vocabulary).dump() + "\n");
  nlohmann::json tokenizer_config = {
      {"tokenizer_class", "PreTrainedTokenizerFast"}, {"eos_token", eos}, {"pad_token", eos}, {"bos_token", nullptr},
      {"model_max_length", o.max_positions}, {"clean_up_tokenization_spaces", false},
      {"added_tokens_decoder", {{std::to_string(eos_id), {{"content", eos}, {"lstrip", false}, {"normalized", false}, {"rstrip", false},
                                                          {"single_word", false}, {"special", true}}}}}};
  write_file_atomically(dir / "tokenizer_config.json", tokenizer_config.dump(2) + "\n");
  nlohmann::json config = {
      {"architectures", {"Qwen2ForCausalLM"}}, {"model_type", "qwen2"}, {"vocab_size", vocab_size},
      {"hidden_size", o.hidden_size}, {"intermediate_size", o.intermediate_size}, {"num_hidden_layers", o.layers},
      {"num_attention_heads", o.heads}, {"num_key_value_heads", o.kv_heads}, {"max_position_embeddings", o.max_positions},
      {"max_window_layers", o.layers}, {"use_sliding_window", false}, {"sliding_window", nullptr},
      {"rms_norm_eps", 1e-6}, {"rope_theta", o.rope_theta}, {"hidden_act", "silu"}, {"initializer_range", 0.02},
      {"tie_word_embeddings", true}, {"torch_dtype", "float32"}, {"attention_dropout", 0.0}, {"use_cache", true},
      {"bos_token_id", nullptr}, {"eos_token_id", eos_id}, {"pad_token_id", eos_id}};
  write_file_atomically(dir / "generation_config.json", nlohmann::json({{"eos_token_id", eos_id}, {"pad_token_id", eos_id}}).dump(2) + "\n");
  write_file_atomically(dir / "config.json", config.dump(2) + "\n");
  return vocab_size;
}

}  // namespace r1lab::harness
