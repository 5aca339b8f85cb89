// `r1lab tokenize`: text on stdin -> token ids as JSON on stdout (or ids -> text with --decode, or a
// conversation -> its rendered prompt and ids with --chat). For checking what a model will see.
#include <iostream>
#include <iterator>

#include "harness/commands.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/chat_template.h"

namespace r1lab::harness {
namespace {

// stdin as JSON of the expected shape, or an error that says what was expected.
template <typename T>
T parse_stdin(const std::string& input, const char* expected) {
  try {
    return nlohmann::json::parse(input).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("stdin: expected ") + expected + ": " + e.what());
  }
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  struct Flags {
    std::string tokenizer_path, chat_template;
    bool special = false, decode = false, chat = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand("tokenize", "Tokenize stdin with a Hugging Face tokenizer.json and print the ids as JSON");
  command->add_option("--tokenizer", flags->tokenizer_path, "Model folder holding tokenizer.json, or the file")->required();
  command->add_flag("--special", flags->special,
                    "Recognise special tokens such as <|im_end|> in the text and add the post-processor's (BOS); "
                    "as tokenizers' encode() does by default");
  command->add_flag("--decode", flags->decode, "Read a JSON array of ids and print the text they stand for");
  command->add_flag("--chat", flags->chat,
                    "Read a JSON array of {role, content} messages; print the rendered prompt and its ids");
  command->add_option("--chat-template", flags->chat_template, "qwen2.5, r1-distill or qwq (default: recognised from tokenizer_config.json)");
  command->callback([flags] {
    auto tokenizer = tokenizer::BpeTokenizer::load(flags->tokenizer_path);
    std::string input(std::istreambuf_iterator<char>(std::cin), {});
    if (flags->decode) {
      auto ids = parse_stdin<std::vector<tokenizer::TokenId>>(input, "a JSON array of token ids");
      std::cout << tokenizer->decode(ids, !flags->special);
      return;
    }
    if (flags->chat) {
      auto messages = parse_stdin<nlohmann::json>(input, "a JSON array of {role, content} messages");
      std::vector<tokenizer::ChatTurn> turns;
      for (std::size_t i = 0; i < messages.size(); ++i) {
        if (!messages[i].contains("role") || !messages[i].contains("content")) {
          throw std::runtime_error("stdin: $[" + std::to_string(i) + "]: a message needs role and content");
        }
        turns.push_back({messages[i]["role"].get<std::string>(), messages[i]["content"].get<std::string>()});
      }
      std::filesystem::path dir = std::filesystem::is_directory(flags->tokenizer_path)
                                      ? std::filesystem::path(flags->tokenizer_path)
                                      : std::filesystem::path(flags->tokenizer_path).parent_path();
      auto format = tokenizer::load_chat_format(dir, flags->chat_template);
      std::string prompt = tokenizer::render_chat(format, turns, true);
      auto ids = tokenizer->encode(prompt, {.parse_special = true, .add_special = false});
      std::cout << nlohmann::json{{"template", tokenizer::chat_template_name(format.chat_template)},
                                  {"prompt", prompt}, {"ids", ids}}.dump() << "\n";
      return;
    }
    auto ids = tokenizer->encode(input, {.parse_special = flags->special, .add_special = flags->special});
    std::cout << nlohmann::json(ids).dump() << "\n";
  });
}

}  // namespace r1lab::harness
