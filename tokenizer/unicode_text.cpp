#include "tokenizer/unicode_text.h"

#include <utf8proc.h>

#include <array>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace r1lab::tokenizer {
namespace {

bool is_white_space(char32_t c) {
  // The White_Space property (PropList.txt); \s in Oniguruma's and Rust regex's Unicode mode.
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

std::uint8_t classes_from_library(char32_t c) {
  std::uint8_t classes = is_white_space(c) ? kWhitespace : 0;
  if (c == '\r' || c == '\n') classes |= kNewline;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      classes |= kLetter;
      break;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      classes |= kNumber;
      break;
    default:
      break;
  }
  return classes;
}

const std::array<std::uint8_t, 128>& ascii_classes() {
  static const std::array<std::uint8_t, 128> table = [] {
    std::array<std::uint8_t, 128> t{};
    for (char32_t c = 0; c < 128; ++c) t[c] = classes_from_library(c);
    return t;
  }();
  return table;
}

}  // namespace

std::uint8_t char_classes(char32_t c) {
  return c < 128 ? ascii_classes()[c] : classes_from_library(c);
}

void decode_code_points(std::string_view text, std::vector<CodePoint>& out) {
  out.clear();
  out.reserve(text.size() + 1);
  const auto& ascii = ascii_classes();
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char b = bytes[i];
    if (b < 0x80) {
      out.push_back({static_cast<std::uint32_t>(i), b, ascii[b]});
      ++i;
      continue;
    }
    utf8proc_int32_t c = 0;
    utf8proc_ssize_t n = utf8proc_iterate(bytes + i, static_cast<utf8proc_ssize_t>(text.size() - i), &c);
    if (n <= 0) {
      out.push_back({static_cast<std::uint32_t>(i), 0xFFFD, 0});
      ++i;
      continue;
    }
    out.push_back({static_cast<std::uint32_t>(i), static_cast<char32_t>(c), classes_from_library(c)});
    i += static_cast<std::size_t>(n);
  }
  out.push_back({static_cast<std::uint32_t>(text.size()), 0, 0});
}

std::string_view nfc(std::string_view text, std::string& scratch) {
  bool ascii = true;
  for (unsigned char b : text) {
    if (b >= 0x80) { ascii = false; break; }
  }
  if (ascii) return text;
  utf8proc_uint8_t* result = nullptr;
  utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                    static_cast<utf8proc_ssize_t>(text.size()), &result,
                                    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (n < 0) {
    // Invalid UTF-8: normalise nothing rather than fail; the bytes still encode (byte-level BPE).
    return text;
  }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(result, &std::free);
  scratch.assign(reinterpret_cast<const char*>(result), static_cast<std::size_t>(n));
  return scratch;
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string valid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(bytes.data());
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (p[i] < 0x80) {
      out.push_back(static_cast<char>(p[i++]));
      continue;
    }
    utf8proc_int32_t c = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(bytes.size() - i), &c);
    if (n <= 0) {
      append_utf8(0xFFFD, out);
      ++i;
    } else {
      out.append(bytes.substr(i, static_cast<std::size_t>(n)));
      i += static_cast<std::size_t>(n);
    }
  }
  return out;
}

}  // namespace r1lab::tokenizer
