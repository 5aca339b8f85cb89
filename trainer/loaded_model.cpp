#include "trainer/loaded_model.h"

#include <stdexcept>

namespace r1lab::trainer {

std::unique_ptr<LoadedModel> LoadedModel::load(const std::filesystem::path& dir, const LoadedModelOptions& options) {
  auto loaded = std::unique_ptr<LoadedModel>(new LoadedModel());
  loaded->dir_ = dir;
  loaded->device_ = options.device;
  // The small files first: a folder without a tokenizer or template fails before gigabytes are read.
  loaded->tokenizer_ = tokenizer::BpeTokenizer::load(dir);
  if (options.chat == ChatTemplateUse::required) {
    loaded->chat_ = tokenizer::load_chat_format(dir, options.chat_template);
  } else if (options.chat == ChatTemplateUse::if_present &&
             (!options.chat_template.empty() || tokenizer::folder_has_chat_template(dir))) {
    // A template that is named or declared must load (a typo, an unknown template or a broken
    // tokenizer_config.json is an error); without one, only plain text can be used, and data that
    // needs a template says so when it comes.
    loaded->chat_ = tokenizer::load_chat_format(dir, options.chat_template);
  }
  loaded->model_ = CausalLM::load(dir, {at::Device(options.device), options.dtype});
  return loaded;
}

std::vector<std::int64_t> LoadedModel::chat_prompt_ids(const std::vector<tokenizer::ChatTurn>& turns) const {
  if (!chat_) throw std::logic_error("chat_prompt_ids: " + dir_.string() + " was loaded without its chat template");
  const std::string text = tokenizer::render_chat(*chat_, turns, /*add_generation_prompt=*/true);
  // The template writes the special tokens itself (BOS included where the model has one).
  auto ids = tokenizer_->encode(text, {.parse_special = true, .add_special = false});
  return {ids.begin(), ids.end()};
}

std::vector<std::int64_t> LoadedModel::completion_prompt_ids(const std::string& text) const {
  auto ids = tokenizer_->encode(text, {.parse_special = true, .add_special = true});
  return {ids.begin(), ids.end()};
}

std::string LoadedModel::describe() const {
  return dir_.string() + " device=" + device_ + " dtype=" + dtype_name(model_->dtype()) +
         (chat_ ? " chat-template=" + std::string(tokenizer::chat_template_name(chat_->chat_template)) : " completions");
}

}  // namespace r1lab::trainer
