// tokenizer/pretokenizer.h — splits text into the pieces that BPE merges within, exactly as the split
// regex of Qwen2/2.5/3 and Llama 3 tokenizers does:
//
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// with D = 1 (Qwen) or 3 (Llama 3). It is hand-written rather than run by a regex engine: the pattern is
// fixed, the alternatives are tried in order at each position, and each one's backtracking reduces to a
// scan of one character class, which is several times faster than a general engine.
// Only these two patterns are supported; from_pattern() rejects any other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/unicode_text.h"

namespace r1lab::tokenizer {

struct SplitPattern {
  int max_digits = 1;   // \p{N} (Qwen) or \p{N}{1,3} (Llama 3)

  // The pattern of a tokenizer.json Split pre-tokenizer; nothing when it is not one we implement.
  static std::optional<SplitPattern> from_pattern(std::string_view regex);
};

// Appends the [begin, end) byte ranges of the pieces of `text` to `pieces` (cleared first).
// `scratch` holds decoded code points between calls.
void split_pieces(std::string_view text, SplitPattern pattern, std::vector<CodePoint>& scratch,
                  std::vector<std::pair<std::uint32_t, std::uint32_t>>& pieces);

}  // namespace r1lab::tokenizer
