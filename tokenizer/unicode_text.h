// tokenizer/unicode_text.h — the few Unicode facts byte-level BPE needs: UTF-8 decoding, the character
// classes of the split patterns (\p{L}, \p{N}, \s) and NFC normalisation. Tables come from utf8proc
// (Debian libutf8proc, Unicode 15). ASCII is answered from a table without calling into the library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace r1lab::tokenizer {

enum CharClass : std::uint8_t {
  kLetter = 1,       // \p{L}: Lu Ll Lt Lm Lo
  kNumber = 2,       // \p{N}: Nd Nl No
  kWhitespace = 4,   // \s: the White_Space property, as Oniguruma and Rust's regex define it
  kNewline = 8,      // \r or \n
};

// One code point of a UTF-8 string: where it starts and its class bits. Invalid UTF-8 bytes come out as
// single code points of class 0 (the regex engines HF uses never see them: the text is a Rust String).
struct CodePoint {
  std::uint32_t offset;
  char32_t value;
  std::uint8_t classes;
};

// Decodes `text` into code points, appending to `out` (cleared first). One extra entry at the end marks
// the end offset (value 0, classes 0).
void decode_code_points(std::string_view text, std::vector<CodePoint>& out);
std::uint8_t char_classes(char32_t c);

// NFC; text that is already NFC (all ASCII, the common case) is returned without a copy into `scratch`.
std::string_view nfc(std::string_view text, std::string& scratch);

// Appends the UTF-8 encoding of `c`.
void append_utf8(char32_t c, std::string& out);
// Replaces invalid UTF-8 with U+FFFD, as Rust's from_utf8_lossy does (for JSON output of decoded bytes).
std::string valid_utf8(std::string_view bytes);

}  // namespace r1lab::tokenizer
