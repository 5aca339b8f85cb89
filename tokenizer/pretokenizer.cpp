#include "tokenizer/pretokenizer.h"

namespace r1lab::tokenizer {
namespace {

constexpr std::string_view kContractions = R"((?i:'s|'t|'re|'ve|'m|'ll|'d))";
constexpr std::string_view kQwenPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

char32_t ascii_lower(char32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Length in code points of a contraction at i ('s 't 're 've 'm 'll 'd, any case), or 0. Under Unicode
// case folding 's also matches U+017F (long s), which folds to s.
int contraction_length(const CodePoint* cp, std::size_t i, std::size_t n) {
  if (cp[i].value != '\'' || i + 1 >= n) return 0;
  char32_t a = ascii_lower(cp[i + 1].value);
  if (a == 's' || a == 't' || a == 'm' || a == 'd' || cp[i + 1].value == 0x17F) return 2;
  if (i + 2 >= n) return 0;
  char32_t b = ascii_lower(cp[i + 2].value);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

bool is_letter(const CodePoint& c) { return c.classes & kLetter; }
bool is_number(const CodePoint& c) { return c.classes & kNumber; }
bool is_space(const CodePoint& c) { return c.classes & kWhitespace; }
bool is_newline(const CodePoint& c) { return c.classes & kNewline; }
// [^\s\p{L}\p{N}]
bool is_other(const CodePoint& c) { return !(c.classes & (kLetter | kNumber | kWhitespace)); }

}  // namespace

std::optional<SplitPattern> SplitPattern::from_pattern(std::string_view regex) {
  static_assert(kContractions.size() > 0);
  if (regex == kQwenPattern) return SplitPattern{1};
  if (regex == kLlama3Pattern) return SplitPattern{3};
  return std::nullopt;
}

void split_pieces(std::string_view text, SplitPattern pattern, std::vector<CodePoint>& cps,
                  std::vector<std::pair<std::uint32_t, std::uint32_t>>& pieces) {
  pieces.clear();
  decode_code_points(text, cps);
  const std::size_t n = cps.size() - 1;   // the last entry marks the end
  const CodePoint* cp = cps.data();
  std::size_t i = 0;
  while (i < n) {
    std::size_t end = i;
    if (int len = contraction_length(cp, i, n)) {
      end = i + len;
    } else if (!is_letter(cp[i]) && !is_number(cp[i]) && !is_newline(cp[i]) && i + 1 < n && is_letter(cp[i + 1])) {
      // [^\r\n\p{L}\p{N}]\p{L}+
      end = i + 2;
      while (end < n && is_letter(cp[end])) ++end;
    } else if (is_letter(cp[i])) {
      end = i + 1;
      while (end < n && is_letter(cp[end])) ++end;
    } else if (is_number(cp[i])) {
      end = i + 1;
      while (end < n && end - i < static_cast<std::size_t>(pattern.max_digits) && is_number(cp[end])) ++end;
    } else if ((cp[i].value == ' ' && i + 1 < n && is_other(cp[i + 1])) || is_other(cp[i])) {
      // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
      end = cp[i].value == ' ' ? i + 1 : i;
      while (end < n && is_other(cp[end])) ++end;
      while (end < n && is_newline(cp[end])) ++end;
    } else {
      // A whitespace run [i, run_end). \s*[\r\n]+ ends after the run's last newline; else \s+(?!\S) takes
      // the run but its last character when something follows (that one starts the next piece); else \s+.
      std::size_t run_end = i;
      while (run_end < n && is_space(cp[run_end])) ++run_end;
      std::size_t last_newline = run_end;
      for (std::size_t k = run_end; k > i; --k) {
        if (is_newline(cp[k - 1])) { last_newline = k - 1; break; }
      }
      if (last_newline != run_end) {
        end = last_newline + 1;
      } else if (run_end == n || run_end - i == 1) {
        end = run_end;
      } else {
        end = run_end - 1;
      }
    }
    pieces.emplace_back(cp[i].offset, cp[end].offset);
    i = end;
  }
}

}  // namespace r1lab::tokenizer
