// tasks/text_utf8.h — UTF-8 decoding for graders that read text by code point (LiveCodeBench's Python
// string semantics, the language-consistency reward). Strict as Python's decoder: overlong forms,
// surrogates and values past U+10FFFF are not code points.
#pragma once

#include <cstddef>
#include <string_view>

namespace r1lab::tasks {

constexpr char32_t kInvalidByte = 0xFFFFFFFF;   // a byte that starts no valid UTF-8 sequence

struct CodePoint {
  char32_t value;
  std::size_t length;   // bytes
};

// The code point at `at`. A byte that does not start a valid sequence is a "code point" of its own,
// kInvalidByte, one byte long (Python programs print valid UTF-8; C++ ones and models may not).
inline CodePoint decode_utf8(std::string_view s, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char first = byte(at);
  if (first < 0x80) return {first, 1};
  const std::size_t length = first >= 0xC2 && first <= 0xDF ? 2 : first >= 0xE0 && first <= 0xEF ? 3 : first >= 0xF0 && first <= 0xF4 ? 4 : 0;
  if (length == 0 || at + length > s.size()) return {kInvalidByte, 1};
  for (std::size_t i = 1; i < length; ++i)
    if ((byte(at + i) & 0xC0) != 0x80) return {kInvalidByte, 1};
  const unsigned char second = byte(at + 1);
  if ((first == 0xE0 && second < 0xA0) || (first == 0xED && second > 0x9F) ||   // overlong, surrogate
      (first == 0xF0 && second < 0x90) || (first == 0xF4 && second > 0x8F))     // overlong, > U+10FFFF
    return {kInvalidByte, 1};
  char32_t value = first & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) value = (value << 6) | (byte(at + i) & 0x3F);
  return {value, length};
}

}  // namespace r1lab::tasks
