// tokenizer/chat_template.h — renders a conversation into the prompt string a chat model expects, for
// the three template families the R1 evaluation needs: Qwen2.5-Instruct, DeepSeek-R1-Distill and QwQ.
// These are the templates in the models' tokenizer_config.json, written out by hand (no Jinja engine);
// tests compare every rendering with transformers' apply_chat_template. Tool calls are not supported:
// a message whose role is not system, user or assistant is an error.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1lab::tokenizer {

enum class ChatTemplate { qwen2_5, r1_distill, qwq };

std::string_view chat_template_name(ChatTemplate t);   // "qwen2.5", "r1-distill", "qwq"
std::optional<ChatTemplate> chat_template_from_name(std::string_view name);
// Recognises one of ours in the Jinja source of a tokenizer_config.json; nothing when it is another.
std::optional<ChatTemplate> recognise_chat_template(std::string_view jinja_source);

struct ChatTurn {
  std::string role;
  std::string content;
};

// What a model folder says about its chat format: the template (recognised from chat_template.jinja or
// tokenizer_config.json,
// or named by the caller) and the BOS string the R1-Distill template starts with.
struct ChatFormat {
  ChatTemplate chat_template = ChatTemplate::qwen2_5;
  std::string bos_token;
};
// `override_name` (a --chat-template value) wins over the folder's file. Throws std::runtime_error naming
// tokenizer_config.json and what to pass when the template is not one of ours.
ChatFormat load_chat_format(const std::filesystem::path& model_dir, std::string_view override_name = {});
// Whether the folder declares a chat template (chat_template.jinja, or tokenizer_config.json's key; an
// unreadable tokenizer_config.json counts, so that loading it reports the error).
bool folder_has_chat_template(const std::filesystem::path& model_dir);

// Throws std::invalid_argument for a role the template cannot render.
std::string render_chat(const ChatFormat& format, const std::vector<ChatTurn>& messages, bool add_generation_prompt);

}  // namespace r1lab::tokenizer
