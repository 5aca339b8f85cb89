// The tokenizer against its references: llama.cpp's Qwen2 test vectors (golden files), Hugging Face
// `tokenizers` on the real benchmark texts and model outputs, transformers' Jinja chat templates.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/child_process.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/unicode_text.h"

namespace fs = std::filesystem;
using r1lab::tokenizer::BpeTokenizer;
using r1lab::tokenizer::TokenId;

namespace {

const fs::path kTokenizers = fs::path(R1LAB_SHARED_DATA) / "tokenizers";
const fs::path kQwenTokenizer = kTokenizers / "qwen3_tokenizer_npm";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const BpeTokenizer& qwen() {
  static std::unique_ptr<BpeTokenizer> tokenizer = BpeTokenizer::load(kQwenTokenizer);
  return *tokenizer;
}

fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("r1lab_tokenizer_test_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

void run_oracle(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {R1LAB_PYTHON, std::string(R1LAB_SOURCE_DIR) + "/tests/support/tokenizer_oracle.py"};
  argv.insert(argv.end(), args.begin(), args.end());
  r1lab::testing::ChildProcess oracle(argv, "", "/dev/null");
  ASSERT_EQ(oracle.wait(), 0) << "tokenizer_oracle.py failed (is .venv set up? scripts/setup_python.sh)";
}

// Compares r1lab with the oracle's ids for every text of the file; returns the number of texts.
std::size_t compare_with_oracle(const BpeTokenizer& tokenizer, const fs::path& oracle_file) {
  std::ifstream in(oracle_file);
  std::string line;
  std::size_t texts = 0, mismatches = 0;
  std::string nfc_scratch;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    std::string text = row["text"];
    auto plain = tokenizer.encode(text, {.parse_special = false, .add_special = false});
    auto special = tokenizer.encode(text, {.parse_special = true, .add_special = true});
    bool same = plain == row["plain"].get<std::vector<TokenId>>() && special == row["special"].get<std::vector<TokenId>>();
    if (!same && ++mismatches <= 5) ADD_FAILURE() << "ids differ from tokenizers on " << row["source"];
    // Decoding gives the text back (its NFC form when the tokenizer normalises).
    std::string expected_text(tokenizer.normalizes_nfc() ? r1lab::tokenizer::nfc(text, nfc_scratch) : text);
    if (tokenizer.decode(plain) != expected_text && ++mismatches <= 5) ADD_FAILURE() << "decode(encode(x)) != x on " << row["source"];
    ++texts;
  }
  EXPECT_EQ(mismatches, 0u);
  return texts;
}

}  // namespace

TEST(TokenizerGolden, LlamaCppQwen2VectorsExactly) {
  std::string inputs = read_file(kTokenizers / "llama_cpp_vocab_tests/ggml-vocab-qwen2.gguf.inp");
  std::istringstream outputs(read_file(kTokenizers / "llama_cpp_vocab_tests/ggml-vocab-qwen2.gguf.out"));
  const std::string separator = "\n__ggml_vocab_test__\n";
  std::size_t start = 0, cases = 0;
  std::string expected_line;
  while (start < inputs.size() && std::getline(outputs, expected_line)) {
    std::size_t end = inputs.find(separator, start);
    if (end == std::string::npos) end = inputs.size();
    std::string text = inputs.substr(start, end - start);
    start = end + separator.size();
    std::vector<TokenId> expected;
    std::istringstream numbers(expected_line);
    for (TokenId id; numbers >> id;) expected.push_back(id);
    EXPECT_EQ(qwen().encode(text), expected) << "vector " << cases << ": '" << text << "'";
    EXPECT_EQ(qwen().decode(qwen().encode(text)), text);
    ++cases;
  }
  EXPECT_EQ(cases, 46u);
}

TEST(Tokenizer, SpecialTokensOnlyWhenAsked) {
  const std::string text = "<|im_start|>user\nhi<|im_end|>";
  auto with = qwen().encode(text, {.parse_special = true});
  ASSERT_FALSE(with.empty());
  EXPECT_EQ(with.front(), 151644);
  EXPECT_EQ(with.back(), 151645);
  auto without = qwen().encode(text);
  EXPECT_GT(without.size(), with.size());
  for (TokenId id : without) EXPECT_LT(id, 151643) << "a special token was recognised without parse_special";
  EXPECT_EQ(qwen().decode(with, /*skip_special=*/true), "user\nhi");
  // <think> is an added token that is not special in this file: always recognised, as in tokenizers.
  EXPECT_EQ(qwen().encode("<think>"), std::vector<TokenId>{151667});
}

TEST(Tokenizer, ErrorsNameTheFileAndJsonPath) {
  fs::path dir = temp_dir("errors");
  auto spec = nlohmann::json::parse(read_file(kQwenTokenizer / "tokenizer.json"));
  spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
  std::ofstream(dir / "tokenizer.json") << spec.dump();
  try {
    BpeTokenizer::load(dir);
    FAIL() << "an unknown split pattern was accepted";
  } catch (const r1lab::tokenizer::TokenizerError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "tokenizer.json").string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("$.pre_tokenizer.pretokenizers[0].pattern.Regex"), std::string::npos) << e.what();
  }
  spec = nlohmann::json::parse(read_file(kQwenTokenizer / "tokenizer.json"));
  spec["model"]["merges"][5] = std::vector<std::string>{"Ġ", "no-such-token"};
  std::ofstream(dir / "tokenizer.json") << spec.dump();
  try {
    BpeTokenizer::load(dir);
    FAIL() << "a merge of an unknown token was accepted";
  } catch (const r1lab::tokenizer::TokenizerError& e) {
    EXPECT_NE(std::string(e.what()).find("$.model.merges[5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(BpeTokenizer::load(dir / "missing"), r1lab::tokenizer::TokenizerError);
  fs::remove_all(dir);
}

// Every MATH-500 problem and solution, GPQA Diamond question, SkyThought completion (about 19 MB), with
// and without special tokens, against tokenizers from PyPI.
TEST(TokenizerOracle, SameIdsAsHfTokenizersOnRealText) {
  fs::path dir = temp_dir("oracle");
  run_oracle({"ids", (kQwenTokenizer / "tokenizer.json").string(), R1LAB_SHARED_DATA, (dir / "ids.jsonl").string()});
  std::size_t texts = compare_with_oracle(qwen(), dir / "ids.jsonl");
  EXPECT_GE(texts, 500u * 2 + 198u * 4 + 3000u);   // MATH-500 x2, GPQA x4 fields, SkyThought
  fs::remove_all(dir);
}

// The Llama 3 parts (digits in threes, ignore_merges, a BOS post-processor) on the same texts.
TEST(TokenizerOracle, Llama3LayoutSameIdsAsHfTokenizers) {
  fs::path dir = temp_dir("llama3");
  run_oracle({"llama3-variant", (kQwenTokenizer / "tokenizer.json").string(), dir.string()});
  run_oracle({"ids", (dir / "tokenizer.json").string(), R1LAB_SHARED_DATA, (dir / "ids.jsonl").string()});
  auto tokenizer = BpeTokenizer::load(dir);
  EXPECT_EQ(tokenizer->encode("x", {.add_special = true}).front(), 151643);
  compare_with_oracle(*tokenizer, dir / "ids.jsonl");
  fs::remove_all(dir);
}

TEST(ChatTemplateOracle, SameTextAsTransformersApplyChatTemplate) {
  fs::path dir = temp_dir("chat");
  run_oracle({"chat", kQwenTokenizer.string(), (kTokenizers / "chat_templates").string(), (dir / "chat.jsonl").string()});
  std::ifstream in(dir / "chat.jsonl");
  std::string line;
  std::size_t cases = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line);
    std::string source = read_file(kTokenizers / "chat_templates" / row["template"].get<std::string>());
    auto recognised = r1lab::tokenizer::recognise_chat_template(source);
    ASSERT_TRUE(recognised) << row["template"];
    r1lab::tokenizer::ChatFormat format{*recognised, "<｜begin▁of▁sentence｜>"};
    std::vector<r1lab::tokenizer::ChatTurn> turns;
    for (const auto& m : row["messages"]) turns.push_back({m["role"], m["content"]});
    EXPECT_EQ(r1lab::tokenizer::render_chat(format, turns, row["add_generation_prompt"]), row["text"].get<std::string>())
        << row["template"] << " " << row["messages"].dump();
    ++cases;
  }
  EXPECT_EQ(cases, 36u);
  fs::remove_all(dir);
}
