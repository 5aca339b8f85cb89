// tokenizer/bpe_trainer.h — a small byte-level BPE vocabulary learned from a corpus, written as a
// tokenizer.json that BpeTokenizer (and Hugging Face's tokenizers) load.
//
// Why: a tiny model trained on the CPU (the GRPO learning experiment, tests) would spend most of its
// parameters and time on Qwen's 151k-token vocabulary. This one has the 256 bytes, a few hundred merges
// learned from the text it will see, and the special tokens. The split pattern is Qwen's (one digit per
// piece, so numbers stay digit by digit); the file has Qwen's layout (NFC, Split + ByteLevel, ByteLevel
// decoding), so nothing else in r1lab treats it differently.
// Learning: the corpus is split into pieces by the pattern; the most frequent adjacent pair of symbols
// (counted over pieces, weighted by how often each piece occurs) is merged, again and again, until
// `merges` merges or no pair occurs twice. Ties go to the smaller pair of ids, so the result is the
// same on every machine.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1lab::tokenizer {

struct BpeVocabulary {
  std::vector<std::string> tokens;                        // id -> bytes: the 256 bytes, then each new merged string
  std::vector<std::pair<std::size_t, std::size_t>> merges;   // in rank order: the two token ids merged
  std::vector<std::string> special_tokens;                // ids after the tokens, in this order
};

BpeVocabulary learn_bpe(const std::vector<std::string>& corpus, std::size_t merges, std::vector<std::string> special_tokens);

// The tokenizer.json text of a vocabulary.
nlohmann::json tokenizer_json(const BpeVocabulary& vocabulary);

}  // namespace r1lab::tokenizer
