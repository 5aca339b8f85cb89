#include "tokenizer/chat_template.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace r1lab::tokenizer {
namespace {

constexpr std::string_view kQwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

void check_role(const ChatTurn& m) {
  if (m.role != "system" && m.role != "user" && m.role != "assistant") {
    throw std::invalid_argument("chat message role '" + m.role + "' is not supported (system, user, assistant)");
  }
}

// Python's s.split(sep)[-1]: the text after the last separator (all of it when there is none).
std::string after_last(const std::string& s, std::string_view sep) {
  auto at = s.rfind(sep);
  return at == std::string::npos ? s : s.substr(at + sep.size());
}

std::string lstrip_newlines(std::string s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] == '\n') ++i;
  return s.substr(i);
}

std::string render_qwen(const std::vector<ChatTurn>& messages, bool add_generation_prompt, bool qwq) {
  std::string out;
  bool first_is_system = !messages.empty() && messages[0].role == "system";
  if (first_is_system) {
    out += "<|im_start|>system\n" + messages[0].content + "<|im_end|>\n";
  } else if (!qwq) {
    out += "<|im_start|>system\n" + std::string(kQwenDefaultSystem) + "<|im_end|>\n";
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const ChatTurn& m = messages[i];
    check_role(m);
    if (m.role == "system" && i == 0) continue;
    std::string content = m.content;
    // QwQ drops the reasoning of earlier assistant turns.
    if (qwq && m.role == "assistant" && i + 1 < messages.size()) content = lstrip_newlines(after_last(content, "</think>"));
    out += "<|im_start|>" + m.role + "\n" + content + "<|im_end|>\n";
  }
  if (add_generation_prompt) out += qwq ? "<|im_start|>assistant\n<think>\n" : "<|im_start|>assistant\n";
  return out;
}

std::string render_r1_distill(const std::vector<ChatTurn>& messages, bool add_generation_prompt, const std::string& bos) {
  std::string system;
  for (const ChatTurn& m : messages) {
    check_role(m);
    if (m.role == "system") system = m.content;   // the last system message wins, placed first
  }
  std::string out = bos + system;
  for (const ChatTurn& m : messages) {
    if (m.role == "user") out += "<｜User｜>" + m.content;
    if (m.role == "assistant") out += "<｜Assistant｜>" + after_last(m.content, "</think>") + "<｜end▁of▁sentence｜>";
  }
  if (add_generation_prompt) out += "<｜Assistant｜><think>\n";
  return out;
}

std::string token_string(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content")) return value["content"].get<std::string>();
  return {};
}

}  // namespace

std::string_view chat_template_name(ChatTemplate t) {
  switch (t) {
    case ChatTemplate::qwen2_5: return "qwen2.5";
    case ChatTemplate::r1_distill: return "r1-distill";
    case ChatTemplate::qwq: return "qwq";
  }
  return "?";
}

std::optional<ChatTemplate> chat_template_from_name(std::string_view name) {
  for (ChatTemplate t : {ChatTemplate::qwen2_5, ChatTemplate::r1_distill, ChatTemplate::qwq}) {
    if (chat_template_name(t) == name) return t;
  }
  return std::nullopt;
}

std::optional<ChatTemplate> recognise_chat_template(std::string_view source) {
  if (source.find("<｜Assistant｜>") != std::string_view::npos && source.find("<｜User｜>") != std::string_view::npos) {
    return ChatTemplate::r1_distill;
  }
  if (source.find(R"('<|im_start|>assistant\n<think>\n')") != std::string_view::npos) return ChatTemplate::qwq;
  if (source.find(kQwenDefaultSystem) != std::string_view::npos) return ChatTemplate::qwen2_5;
  return std::nullopt;
}

bool folder_has_chat_template(const std::filesystem::path& model_dir) {
  if (std::filesystem::exists(model_dir / "chat_template.jinja")) return true;
  std::ifstream in(model_dir / "tokenizer_config.json");
  if (!in) return false;
  nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return config.is_discarded() || (config.is_object() && config.contains("chat_template"));   // unreadable: let the loader say why
}

ChatFormat load_chat_format(const std::filesystem::path& model_dir, std::string_view override_name) {
  ChatFormat format;
  std::filesystem::path config_file = model_dir / "tokenizer_config.json";
  nlohmann::json config = nlohmann::json::object();
  if (std::ifstream in(config_file); in) {
    try {
      config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(config_file.string() + ": not valid JSON: " + e.what());
    }
  }
  format.bos_token = token_string(config.value("bos_token", nlohmann::json()));
  if (!override_name.empty()) {
    auto t = chat_template_from_name(override_name);
    if (!t) throw std::runtime_error("--chat-template '" + std::string(override_name) + "' is not one of qwen2.5, r1-distill, qwq");
    format.chat_template = *t;
    return format;
  }
  std::string source;
  // transformers 5 saves the template beside the config as chat_template.jinja; it wins, as there.
  if (std::ifstream jinja(model_dir / "chat_template.jinja"); jinja) {
    source.assign(std::istreambuf_iterator<char>(jinja), {});
  } else if (auto it = config.find("chat_template"); it != config.end()) {
    if (it->is_string()) {
      source = it->get<std::string>();
    } else if (it->is_array()) {   // [{name, template}, ...]: the "default" one
      for (const auto& entry : *it) {
        if (entry.value("name", "") == "default") source = entry.value("template", "");
      }
    }
  }
  if (source.empty()) {
    throw std::runtime_error(config_file.string() + ": no chat_template; pass --chat-template qwen2.5|r1-distill|qwq, or use a completion prompt");
  }
  auto t = recognise_chat_template(source);
  if (!t) {
    throw std::runtime_error(config_file.string() + ": $.chat_template is not one r1lab implements (Qwen2.5, R1-Distill, QwQ); pass --chat-template to choose one");
  }
  format.chat_template = *t;
  return format;
}

std::string render_chat(const ChatFormat& format, const std::vector<ChatTurn>& messages, bool add_generation_prompt) {
  switch (format.chat_template) {
    case ChatTemplate::qwen2_5: return render_qwen(messages, add_generation_prompt, false);
    case ChatTemplate::qwq: return render_qwen(messages, add_generation_prompt, true);
    case ChatTemplate::r1_distill: return render_r1_distill(messages, add_generation_prompt, format.bos_token);
  }
  return {};
}

}  // namespace r1lab::tokenizer
