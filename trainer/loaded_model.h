// trainer/loaded_model.h — a model folder as every command uses it: the tokenizer, the chat template,
// the weights, and the one way a prompt becomes token ids. `eval --backend builtin`, `generate` and
// `train` all hold one, so a prompt that is trained on is encoded exactly as it is later evaluated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/chat_template.h"
#include "trainer/causal_lm.h"

namespace r1lab::trainer {

// Whether the command needs the folder's chat template.
enum class ChatTemplateUse {
  required,    // prompts are conversations (eval and generate by default, SFT on messages)
  if_present,  // loaded when the folder has one (SFT on plain text can do without)
  none,        // completion prompts as they are (eval/generate --no-chat)
};

struct LoadedModelOptions {
  std::string device = "cpu";   // cpu, cuda, cuda:N
  std::string dtype = "auto";   // as CausalLM::load takes it
  std::string chat_template;    // empty: recognised from the folder
  ChatTemplateUse chat = ChatTemplateUse::required;
};

class LoadedModel {
 public:
  static std::unique_ptr<LoadedModel> load(const std::filesystem::path& dir, const LoadedModelOptions& options);

  const std::filesystem::path& dir() const { return dir_; }
  CausalLM& model() { return *model_; }
  const CausalLM& model() const { return *model_; }
  const tokenizer::BpeTokenizer& tokenizer() const { return *tokenizer_; }
  // The chat format, or nullptr when none was loaded.
  const tokenizer::ChatFormat* chat() const { return chat_ ? &*chat_ : nullptr; }

  // A conversation rendered with the chat template and the assistant's turn opened, as token ids.
  std::vector<std::int64_t> chat_prompt_ids(const std::vector<tokenizer::ChatTurn>& turns) const;
  // A completion prompt as it is, with the BOS the model was trained with.
  std::vector<std::int64_t> completion_prompt_ids(const std::string& text) const;
  // "DIR device=cpu dtype=float32 chat-template=chatml" (or "completions"): part of an eval run's identity.
  std::string describe() const;

 private:
  std::filesystem::path dir_;
  std::string device_;   // as asked ("cuda", not "cuda:0"): it is part of run identities already written
  std::unique_ptr<tokenizer::BpeTokenizer> tokenizer_;
  std::optional<tokenizer::ChatFormat> chat_;
  std::unique_ptr<CausalLM> model_;
};

}  // namespace r1lab::trainer
