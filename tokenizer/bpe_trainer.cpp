#include "tokenizer/bpe_trainer.h"

#include <map>
#include <unordered_map>

#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode_text.h"

namespace r1lab::tokenizer {
namespace {

// Qwen2's split pattern, as its tokenizer.json writes it (one digit per piece).
constexpr const char* kSplitPattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::string symbols_of(const std::string& bytes, const std::array<char32_t, 256>& alphabet) {
  std::string out;
  for (unsigned char b : bytes) append_utf8(alphabet[b], out);
  return out;
}

}  // namespace

BpeVocabulary learn_bpe(const std::vector<std::string>& corpus, std::size_t merges, std::vector<std::string> special_tokens) {
  BpeVocabulary v;
  v.special_tokens = std::move(special_tokens);
  std::unordered_map<std::string, std::size_t> ids;
  for (int b = 0; b < 256; ++b) {
    v.tokens.emplace_back(1, static_cast<char>(b));
    ids.emplace(v.tokens.back(), static_cast<std::size_t>(b));
  }

  // Distinct pieces and how often each occurs.
  std::map<std::string, std::size_t> piece_counts;
  const SplitPattern pattern = *SplitPattern::from_pattern(kSplitPattern);
  std::vector<CodePoint> scratch;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  for (const std::string& text : corpus) {
    split_pieces(text, pattern, scratch, ranges);
    for (auto [begin, end] : ranges) ++piece_counts[text.substr(begin, end - begin)];
  }
  struct Piece {
    std::vector<std::size_t> ids;
    std::size_t count;
  };
  std::vector<Piece> pieces;
  for (const auto& [bytes, count] : piece_counts) {
    Piece p{{}, count};
    for (unsigned char b : bytes) p.ids.push_back(b);
    if (p.ids.size() > 1) pieces.push_back(std::move(p));
  }

  for (std::size_t m = 0; m < merges; ++m) {
    std::map<std::pair<std::size_t, std::size_t>, std::size_t> pairs;   // ordered: ties go to the smaller pair
    for (const Piece& p : pieces)
      for (std::size_t i = 0; i + 1 < p.ids.size(); ++i) pairs[{p.ids[i], p.ids[i + 1]}] += p.count;
    std::pair<std::size_t, std::size_t> best{0, 0};
    std::size_t best_count = 0;
    for (const auto& [pair, count] : pairs) {
      if (count > best_count) best = pair, best_count = count;
    }
    if (best_count < 2) break;
    // Two merges can spell the same string ("t"+"he", "th"+"e"): one token, as tokenizers' trainer keeps it.
    const std::string spelled = v.tokens[best.first] + v.tokens[best.second];
    auto [known, added] = ids.emplace(spelled, v.tokens.size());
    const std::size_t merged = known->second;
    if (added) v.tokens.push_back(spelled);
    v.merges.push_back(best);
    for (Piece& p : pieces) {
      std::vector<std::size_t> next;
      for (std::size_t i = 0; i < p.ids.size(); ++i) {
        if (i + 1 < p.ids.size() && p.ids[i] == best.first && p.ids[i + 1] == best.second) {
          next.push_back(merged);
          ++i;
        } else {
          next.push_back(p.ids[i]);
        }
      }
      p.ids = std::move(next);
    }
  }
  return v;
}

nlohmann::json tokenizer_json(const BpeVocabulary& v) {
  const auto alphabet = byte_level_symbols();
  nlohmann::json vocab = nlohmann::json::object();
  for (std::size_t id = 0; id < v.tokens.size(); ++id) vocab[symbols_of(v.tokens[id], alphabet)] = id;
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [a, b] : v.merges) merges.push_back(symbols_of(v.tokens[a], alphabet) + " " + symbols_of(v.tokens[b], alphabet));
  nlohmann::json added = nlohmann::json::array();
  for (std::size_t i = 0; i < v.special_tokens.size(); ++i) {
    added.push_back({{"id", v.tokens.size() + i}, {"content", v.special_tokens[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  const nlohmann::json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
  return {{"version", "1.0"},
          {"truncation", nullptr},
          {"padding", nullptr},
          {"added_tokens", added},
          {"normalizer", {{"type", "NFC"}}},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", kSplitPattern}}}, {"behavior", "Isolated"}, {"invert", false}}, byte_level}}}},
          {"post_processor", byte_level},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""}, {"end_of_word_suffix", ""},
            {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false}, {"vocab", vocab}, {"merges", merges}}}};
}

}  // namespace r1lab::tokenizer
