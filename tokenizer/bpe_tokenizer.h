// tokenizer/bpe_tokenizer.h — a Hugging Face tokenizer.json byte-level BPE tokenizer (Qwen2/2.5/3,
// Llama 3), giving the same ids as the `tokenizers` library.
//
// Pipeline, as tokenizers runs it: added tokens are cut out of the raw text first (special ones only when
// asked), each remaining segment is NFC-normalised when the file says so, split into pieces by the
// pattern (pretokenizer.h), each piece's bytes are mapped to their byte-level symbols and merged by rank.
// Decoding maps the symbols back to bytes.
//
// Design: the tables are immutable after loading, so encode() and decode() may run on many threads; the
// only shared mutable state is a bounded cache of merged pieces behind a mutex.
// Not supported (load() fails with the JSON path): other models than BPE, other pre-tokenizers than the
// Qwen/Llama 3 split + ByteLevel, dropout, continuing-subword prefixes, unknown tokens.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenizer.h"

namespace r1lab::tokenizer {

using TokenId = std::int32_t;

// A tokenizer file that cannot be used: names the file, the JSON path and what is wrong.
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AddedToken {
  TokenId id = 0;
  std::string content;
  bool special = false;   // special tokens are recognised in text only with parse_special
  bool lstrip = false;    // absorbs the whitespace before it
  bool rstrip = false;    // absorbs the whitespace after it
};

struct EncodeOptions {
  // Recognise special added tokens (<|im_end|>) in the text; otherwise they are plain text.
  // Non-special added tokens (<think> in Qwen3's file) are always recognised, as in tokenizers.
  bool parse_special = false;
  // Apply the post-processor (Llama 3's BOS); tokenizers' add_special_tokens.
  bool add_special = false;
};

// GPT-2's byte-level alphabet: the character that stands for each byte in vocab and merges.
std::array<char32_t, 256> byte_level_symbols();

class BpeTokenizer {
 public:
  // `path` is a tokenizer.json or a folder holding one. Throws TokenizerError.
  static std::unique_ptr<BpeTokenizer> load(const std::filesystem::path& path);

  std::vector<TokenId> encode(std::string_view text, EncodeOptions options = {}) const;
  // Appends to `out`; the same ids as encode().
  void encode_into(std::string_view text, EncodeOptions options, std::vector<TokenId>& out) const;
  // The bytes the ids stand for (may end inside a UTF-8 character when the ids were cut mid-way).
  std::string decode(const std::vector<TokenId>& ids, bool skip_special = false) const;
  // The bytes of one token (empty for an id out of range).
  std::string_view token_bytes(TokenId id) const;

  std::size_t vocab_size() const { return token_bytes_.size(); }   // highest id + 1
  std::optional<TokenId> token_id(std::string_view content) const;   // an added token or a vocab entry
  bool is_special(TokenId id) const;
  const std::vector<AddedToken>& added_tokens() const { return added_; }
  const std::filesystem::path& file() const { return file_; }
  bool normalizes_nfc() const { return normalize_nfc_; }

 private:
  BpeTokenizer() = default;
  void encode_segment(std::string_view segment, std::vector<TokenId>& out) const;
  void merge_piece(std::string_view piece, std::vector<TokenId>& out) const;

  std::filesystem::path file_;
  bool normalize_nfc_ = false;
  bool ignore_merges_ = false;
  SplitPattern pattern_;
  std::vector<std::string> token_bytes_;                  // id -> bytes (added tokens: their content)
  std::unordered_map<std::string, TokenId> bytes_ids_;    // bytes -> id (for ignore_merges and lookups)
  std::array<TokenId, 256> byte_ids_{};                   // id of each single byte
  // (left id << 32 | right id) -> (rank << 32 | merged id)
  std::unordered_map<std::uint64_t, std::uint64_t> merges_;
  std::vector<AddedToken> added_;
  std::array<bool, 256> added_first_byte_{};              // bytes that can start an added token
  std::vector<bool> special_ids_;
  std::vector<TokenId> prefix_ids_, suffix_ids_;          // post-processor (add_special)

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<TokenId>> cache_;
};

}  // namespace r1lab::tokenizer
