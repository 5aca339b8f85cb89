#include "trainer/sft_data.h"

#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace r1lab::trainer {
namespace {

using Json = nlohmann::json;

std::vector<tokenizer::ChatTurn> read_messages(const Json& list, const std::string& where, const std::string& path) {
  if (!list.is_array()) throw std::runtime_error(where + ": " + path + " must be a list of {\"role\", \"content\"}");
  std::vector<tokenizer::ChatTurn> turns;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& m = list[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string() || !m.contains("content") || !m["content"].is_string()) {
      throw std::runtime_error(where + ": " + path + "[" + std::to_string(i) + "] needs a string \"role\" and a string \"content\"");
    }
    turns.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  return turns;
}

class ExampleBuilder {
 public:
  ExampleBuilder(const tokenizer::BpeTokenizer& tokenizer) : tokenizer_(tokenizer) {}
  void add(std::string_view text, bool learn, bool add_special = false) {
    auto ids = tokenizer_.encode(text, {.parse_special = true, .add_special = add_special});
    for (auto id : ids) {
      example.tokens.push_back(id);
      example.target.push_back(learn ? 1 : 0);
    }
  }
  SftExample example;

 private:
  const tokenizer::BpeTokenizer& tokenizer_;
};

// Renders the conversation turn by turn so that each assistant turn's tokens can be marked.
void add_conversation(ExampleBuilder& b, const std::vector<tokenizer::ChatTurn>& turns, const tokenizer::ChatFormat& chat,
                      bool loss_on_all, const std::string& where) {
  std::string rendered;   // what is already in the example
  bool any_assistant = false;
  for (std::size_t i = 0; i < turns.size(); ++i) {
    if (turns[i].role != "assistant") continue;
    any_assistant = true;
    std::vector<tokenizer::ChatTurn> before(turns.begin(), turns.begin() + static_cast<std::ptrdiff_t>(i));
    std::vector<tokenizer::ChatTurn> through(turns.begin(), turns.begin() + static_cast<std::ptrdiff_t>(i + 1));
    std::string prompt, full;
    try {
      prompt = i == 0 ? std::string() : tokenizer::render_chat(chat, before, /*add_generation_prompt=*/true);
      full = tokenizer::render_chat(chat, through, /*add_generation_prompt=*/false);
    } catch (const std::exception& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
    if (prompt.compare(0, rendered.size(), rendered) != 0 || full.compare(0, prompt.size(), prompt) != 0) {
      throw std::runtime_error(where + ": the chat template renders turn " + std::to_string(i) +
                               " so that earlier turns change (it rewrites past assistant turns, as R1-Distill's drops "
                               "their thinking); train on one assistant turn per line, or use --loss-on all");
    }
    b.add(std::string_view(prompt).substr(rendered.size()), loss_on_all);
    b.add(std::string_view(full).substr(prompt.size()), true);
    rendered = std::move(full);
  }
  if (!any_assistant) throw std::runtime_error(where + ": the conversation has no assistant turn, so nothing to learn from");
}

SftExample parse_line(const std::string& line, const std::string& where, const tokenizer::BpeTokenizer& tokenizer,
                      const tokenizer::ChatFormat* chat, const SftDataOptions& options) {
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception& e) {
    throw std::runtime_error(where + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw std::runtime_error(where + ": a line must be a JSON object");
  ExampleBuilder b(tokenizer);
  auto need_chat = [&]() -> const tokenizer::ChatFormat& {
    if (!chat) throw std::runtime_error(where + ": a conversation needs a chat template, and the model folder has none (pass --chat-template)");
    return *chat;
  };
  if (j.contains("messages")) {
    add_conversation(b, read_messages(j["messages"], where, "$.messages"), need_chat(), options.loss_on_all, where);
  } else if (j.contains("prompt") || j.contains("completion")) {
    if (!j.contains("prompt") || !j.contains("completion")) {
      throw std::runtime_error(where + ": a prompt-completion line needs both \"prompt\" and \"completion\"");
    }
    std::vector<tokenizer::ChatTurn> turns;
    if (j["prompt"].is_string() && j["completion"].is_string() && !chat) {
      // No chat template: the standard (non-conversational) format, as TRL trains it: the prompt as
      // text (with the tokenizer's BOS), then the completion and EOS, the loss on those. The two are
      // encoded apart, as a rollout encodes its prompt and samples the completion.
      b.add(j["prompt"].get<std::string>(), options.loss_on_all, /*add_special=*/true);
      b.add(j["completion"].get<std::string>(), true);
      if (options.eos_id >= 0) {
        b.example.tokens.push_back(options.eos_id);
        b.example.target.push_back(1);
      }
      if (!b.example.target.empty()) b.example.target[0] = 0;
      return std::move(b.example);
    }
    if (j["prompt"].is_string() && j["completion"].is_string()) {
      turns = {{"user", j["prompt"].get<std::string>()}, {"assistant", j["completion"].get<std::string>()}};
    } else {
      turns = read_messages(j["prompt"], where, "$.prompt");
      auto completion = read_messages(j["completion"], where, "$.completion");
      turns.insert(turns.end(), completion.begin(), completion.end());
    }
    add_conversation(b, turns, need_chat(), options.loss_on_all, where);
  } else if (j.contains("text")) {
    if (!j["text"].is_string()) throw std::runtime_error(where + ": $.text must be a string");
    if (!options.loss_on_all) {
      throw std::runtime_error(where + ": a plain \"text\" line has no assistant turn; train plain text with --loss-on all");
    }
    b.add(j["text"].get<std::string>(), true, /*add_special=*/true);
    if (options.eos_id >= 0) {
      b.example.tokens.push_back(options.eos_id);
      b.example.target.push_back(1);
    }
  } else {
    throw std::runtime_error(where + ": a line needs \"messages\" (a conversation), \"prompt\" and \"completion\", or \"text\"");
  }
  if (!b.example.target.empty()) b.example.target[0] = 0;   // the first token is never predicted
  return std::move(b.example);
}

}  // namespace

std::int64_t SftExample::loss_tokens() const {
  std::int64_t n = 0;
  for (auto t : target) n += t;
  return n;
}

SftDataset load_sft_data(const std::filesystem::path& file, const tokenizer::BpeTokenizer& tokenizer,
                         const tokenizer::ChatFormat* chat, const SftDataOptions& options) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open the training data");
  SftDataset data;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(number);
    SftExample example = parse_line(line, where, tokenizer, chat, options);
    example.line = number;
    const auto length = static_cast<std::int64_t>(example.tokens.size());
    if (length > options.max_seq_len) {
      if (!options.truncate) {
        throw std::runtime_error(where + ": " + std::to_string(length) + " tokens, over --max-seq-len " +
                                 std::to_string(options.max_seq_len) + " (raise it, or pass --truncate to cut such lines)");
      }
      example.tokens.resize(static_cast<std::size_t>(options.max_seq_len));
      example.target.resize(static_cast<std::size_t>(options.max_seq_len));
      ++data.truncated;
    }
    if (example.loss_tokens() == 0) {
      if (length > options.max_seq_len) {   // its assistant tokens were all past the cut
        ++data.dropped;
        continue;
      }
      throw std::runtime_error(where + ": no token to learn from (an empty assistant turn?)");
    }
    data.examples.push_back(std::move(example));
  }
  if (data.examples.empty()) throw std::runtime_error(file.string() + ": no training lines");
  return data;
}

}  // namespace r1lab::trainer
