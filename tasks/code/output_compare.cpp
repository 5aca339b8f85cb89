#include "tasks/code/output_compare.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/text_utf8.h"

namespace r1lab::code {

namespace {

// ---- Text as Python sees it: UTF-8 code points, str.isspace(), unicodedata.decimal() ----------------

using tasks::CodePoint;
using tasks::decode_utf8;
using tasks::kInvalidByte;

// str.isspace() of CPython 3.11 (Unicode 14.0): general category Zs, or bidirectional class WS, B or S.
// str.strip() and str.split() without arguments use the same set.
bool is_python_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// The first code point of each run of ten Unicode decimal digits (general category Nd, 0..9 in order)
// in Unicode 14.0, CPython 3.11's unicodedata; generated with unicodedata.decimal().
constexpr std::array<char32_t, 66> kDecimalDigitZeros = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,  0x1946,
    0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,
    0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0,
    0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0};

// unicodedata.decimal(c), or -1.
int python_decimal_digit(char32_t c) {
  auto after = std::upper_bound(kDecimalDigitZeros.begin(), kDecimalDigitZeros.end(), c);
  if (after == kDecimalDigitZeros.begin()) return -1;
  char32_t zero = *(after - 1);
  return c - zero < 10 ? static_cast<int>(c - zero) : -1;
}

// str.strip()
std::string_view python_strip(std::string_view s) {
  std::size_t begin = 0;
  while (begin < s.size()) {
    CodePoint c = decode_utf8(s, begin);
    if (!is_python_space(c.value)) break;
    begin += c.length;
  }
  std::size_t end = begin;   // just after the last code point that is not whitespace
  for (std::size_t i = begin; i < s.size();) {
    CodePoint c = decode_utf8(s, i);
    i += c.length;
    if (!is_python_space(c.value)) end = i;
  }
  return s.substr(begin, end - begin);
}

// [line.strip() for line in s.split("\n")]
std::vector<std::string_view> python_stripped_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '\n') {   // '\n' is never part of a multi-byte sequence
      lines.push_back(python_strip(s.substr(start, i - start)));
      start = i + 1;
    }
  return lines;
}

// str.split()
std::vector<std::string_view> python_split(std::string_view s) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0, start = 0;
  bool in_token = false;
  while (i < s.size()) {
    CodePoint c = decode_utf8(s, i);
    if (is_python_space(c.value)) {
      if (in_token) tokens.push_back(s.substr(start, i - start));
      in_token = false;
    } else if (!in_token) {
      in_token = true;
      start = i;
    }
    i += c.length;
  }
  if (in_token) tokens.push_back(s.substr(start));
  return tokens;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Codeforces' judges split on ASCII whitespace only.
std::vector<std::string_view> split_ascii_whitespace(std::string_view s) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ascii_space(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_ascii_space(s[i])) ++i;
    if (i > start) tokens.push_back(s.substr(start, i - start));
  }
  return tokens;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// ---- Python's Decimal(text) ---------------------------------------------------------------------------

// A Python Decimal in normal form: value = (-1)^negative * digits * 10^exponent, digits without leading
// or trailing zeros ("" for zero).
struct Decimal {
  bool negative = false;
  bool infinite = false;
  bool nan = false;
  std::string digits;
  long long exponent = 0;
};

// CPython's _decimal numeric_as_ascii(text, strip_ws=1, ignore_underscores=1): strip Unicode whitespace,
// drop every underscore (wherever it stands: Decimal("1_") == 1 in CPython 3.11), turn other Unicode
// whitespace into ' ' and Unicode decimal digits into ASCII ones; any other non-ASCII character (or NUL)
// makes the text invalid.
std::optional<std::string> decimal_as_ascii(std::string_view text) {
  std::string_view s = python_strip(text);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    CodePoint c = decode_utf8(s, i);
    i += c.length;
    if (c.value == '_') continue;
    if (c.value > 0 && c.value <= 127) { out += static_cast<char>(c.value); continue; }
    if (is_python_space(c.value)) { out += ' '; continue; }
    int digit = python_decimal_digit(c.value);
    if (digit < 0) return std::nullopt;
    out += static_cast<char>('0' + digit);
  }
  return out;
}

// The limits of libmpdec's maximum context (64-bit), within which Decimal(text) is exact; beyond them
// CPython raises InvalidOperation ("1e1000000000000000000" is not a Decimal).
constexpr long long kMaxAdjustedExponent = 999999999999999999LL;   // MPD_MAX_EMAX
constexpr long long kMinExponent = -1999999999999999997LL;         // MPD_MIN_ETINY

std::size_t take_ascii_digits(std::string_view& s, std::string& out) {
  std::size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') out += s[i++];
  s.remove_prefix(i);
  return i;
}

// libmpdec's string syntax: [sign] (inf | infinity | [s]nan[digits] | coefficient [exponent]), letters
// in any case, where coefficient is digits [. [digits]] or . digits, and exponent is e [sign] digits.
std::optional<Decimal> parse_decimal(std::string_view text) {
  auto ascii = decimal_as_ascii(text);
  if (!ascii) return std::nullopt;
  std::string_view s = *ascii;
  Decimal d;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    d.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (equals_ignore_case(s, "inf") || equals_ignore_case(s, "infinity")) { d.infinite = true; return d; }
  for (std::string_view nan : {"nan", "snan"})
    if (s.size() >= nan.size() && equals_ignore_case(s.substr(0, nan.size()), nan)) {
      std::string_view payload = s.substr(nan.size());
      if (!std::all_of(payload.begin(), payload.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
      d.nan = true;   // never equal to anything, so the payload's own limits do not matter
      return d;
    }
  std::string digits;
  std::size_t integer_digits = take_ascii_digits(s, digits), fraction_digits = 0;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    fraction_digits = take_ascii_digits(s, digits);
  }
  if (integer_digits + fraction_digits == 0) return std::nullopt;
  __int128 exponent = 0;
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    s.remove_prefix(1);
    bool negative_exponent = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) { negative_exponent = s[0] == '-'; s.remove_prefix(1); }
    std::string exponent_digits;
    if (take_ascii_digits(s, exponent_digits) == 0) return std::nullopt;
    long long value = 0;
    auto [end, ec] = std::from_chars(exponent_digits.data(), exponent_digits.data() + exponent_digits.size(), value);
    if (ec != std::errc()) return std::nullopt;   // beyond 64 bits: out of libmpdec's range anyway
    exponent = negative_exponent ? -static_cast<__int128>(value) : value;
  }
  if (!s.empty()) return std::nullopt;
  exponent -= static_cast<__int128>(fraction_digits);
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {   // zero, whatever its sign
    if (exponent > kMaxAdjustedExponent || exponent < kMinExponent) return std::nullopt;
    return d;
  }
  digits.erase(0, first);
  if (exponent + static_cast<__int128>(digits.size()) - 1 > kMaxAdjustedExponent) return std::nullopt;
  while (digits.back() == '0') { digits.pop_back(); ++exponent; }
  if (exponent < kMinExponent) return std::nullopt;
  d.digits = std::move(digits);
  d.exponent = static_cast<long long>(exponent);
  return d;
}

bool decimals_equal(const Decimal& x, const Decimal& y) {
  if (x.nan || y.nan) return false;
  if (x.infinite || y.infinite) return x.infinite && y.infinite && x.negative == y.negative;
  if (x.digits.empty() || y.digits.empty()) return x.digits.empty() && y.digits.empty();
  return x.negative == y.negative && x.digits == y.digits && x.exponent == y.exponent;
}

// ---- JSON values as Python's json.loads() gives them, compared with Python's == -----------------------

// Numbers are kept exact: an integral value (an int, a bool, a float such as 3.0 or 1e20) as canonical
// decimal digits, any other value as its double. Python compares int, float, Fraction and Decimal by
// exact value, so two numbers are == exactly when these forms are equal.
struct PythonValue {
  enum class Kind { none, integer, real, string, list, dict, unequal };
  Kind kind = Kind::none;
  std::string text;                 // integer: digits, '-' first when negative; string: its UTF-8
  double real = 0;
  std::vector<PythonValue> items;   // list: the elements; dict: the values, in the order of keys
  std::vector<std::string> keys;    // dict
};

// Deeper values are refused (no match): comparing and freeing them recurses. Expected outputs nest a few
// levels; Python's own json.dumps stops near its recursion limit too.
constexpr std::size_t kMaxJsonDepth = 1000;

PythonValue integer_value(std::string digits) {
  if (digits == "-0") digits = "0";
  PythonValue v;
  v.kind = PythonValue::Kind::integer;
  v.text = std::move(digits);
  return v;
}

PythonValue real_value(double value) {
  if (std::isfinite(value) && std::floor(value) == value) {
    char text[400];   // "%.0f" of a double is its exact integer (glibc), at most 309 digits
    std::snprintf(text, sizeof text, "%.0f", value);
    return integer_value(text);
  }
  PythonValue v;
  v.kind = PythonValue::Kind::real;
  v.real = value;
  return v;
}

// nlohmann's SAX interface, building PythonValues with the exact text of every number (an integer too
// large for 64 bits arrives as number_float with its text).
class PythonValueBuilder {
 public:
  using json = nlohmann::json;
  bool null() { return add(PythonValue{}); }
  bool boolean(bool value) { return add(integer_value(value ? "1" : "0")); }   // True == 1
  bool number_integer(json::number_integer_t value) { return add(integer_value(std::to_string(value))); }
  bool number_unsigned(json::number_unsigned_t value) { return add(integer_value(std::to_string(value))); }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    if (text.find_first_of(".eE") == std::string::npos) return add(integer_value(text));
    return add(real_value(value));
  }
  bool string(json::string_t& value) {
    PythonValue v;
    v.kind = PythonValue::Kind::string;
    v.text = std::move(value);
    return add(std::move(v));
  }
  bool binary(json::binary_t&) { return false; }
  bool start_object(std::size_t) { return open(PythonValue::Kind::dict); }
  bool key(json::string_t& key) {
    open_.back().keys.push_back(std::move(key));
    return true;
  }
  bool end_object() {
    PythonValue dict = std::move(open_.back());
    open_.pop_back();
    // A repeated key keeps its last value, as json.loads does.
    std::unordered_map<std::string_view, std::size_t> last;
    for (std::size_t i = 0; i < dict.keys.size(); ++i) last[dict.keys[i]] = i;
    if (last.size() != dict.keys.size()) {
      PythonValue unique;
      unique.kind = PythonValue::Kind::dict;
      for (std::size_t i = 0; i < dict.keys.size(); ++i)
        if (last[dict.keys[i]] == i) {
          unique.keys.push_back(dict.keys[i]);
          unique.items.push_back(std::move(dict.items[i]));
        }
      dict = std::move(unique);
    }
    if (last.count(kUnequalValueKey)) dict = PythonValue{PythonValue::Kind::unequal, "", 0, {}, {}};
    return add(std::move(dict));
  }
  bool start_array(std::size_t) { return open(PythonValue::Kind::list); }
  bool end_array() {
    PythonValue list = std::move(open_.back());
    open_.pop_back();
    return add(std::move(list));
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  std::optional<PythonValue> take() {
    if (!done_ || !open_.empty()) return std::nullopt;
    return std::move(result_);
  }

 private:
  bool open(PythonValue::Kind kind) {
    if (open_.size() >= kMaxJsonDepth) return false;
    open_.push_back(PythonValue{kind, "", 0, {}, {}});
    return true;
  }
  bool add(PythonValue value) {
    if (open_.empty()) {
      result_ = std::move(value);
      done_ = true;
    } else {
      open_.back().items.push_back(std::move(value));
    }
    return true;
  }
  std::vector<PythonValue> open_;
  PythonValue result_;
  bool done_ = false;
};

std::optional<PythonValue> parse_python_value(std::string_view json_text) {
  PythonValueBuilder builder;
  if (!nlohmann::json::sax_parse(json_text, &builder)) return std::nullopt;
  return builder.take();
}

bool python_equal(const PythonValue& a, const PythonValue& b) {
  using Kind = PythonValue::Kind;
  if (a.kind == Kind::unequal || b.kind == Kind::unequal || a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::none: return true;
    case Kind::integer:
    case Kind::string: return a.text == b.text;
    case Kind::real: return a.real == b.real;
    case Kind::list:
      if (a.items.size() != b.items.size()) return false;
      for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!python_equal(a.items[i], b.items[i])) return false;
      return true;
    case Kind::dict: {
      if (a.keys.size() != b.keys.size()) return false;
      std::unordered_map<std::string_view, const PythonValue*> other;
      for (std::size_t i = 0; i < b.keys.size(); ++i) other[b.keys[i]] = &b.items[i];
      for (std::size_t i = 0; i < a.keys.size(); ++i) {
        auto found = other.find(a.keys[i]);
        if (found == other.end() || !python_equal(a.items[i], *found->second)) return false;
      }
      return true;
    }
    case Kind::unequal: return false;
  }
  return false;
}

std::optional<double> parse_double(std::string_view token) {
  double value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

}  // namespace

bool decimal_strings_equal(std::string_view a, std::string_view b) {
  auto x = parse_decimal(a), y = parse_decimal(b);
  return x && y && decimals_equal(*x, *y);
}

bool lcb_stdout_matches(std::string_view actual, std::string_view expected) {
  auto got = python_stripped_lines(python_strip(actual)), want = python_stripped_lines(python_strip(expected));
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    // Every token of both lines must be a Decimal, else the line is wrong (as LiveCodeBench).
    std::vector<Decimal> got_numbers, want_numbers;
    for (auto [line, numbers] : {std::pair{got[i], &got_numbers}, std::pair{want[i], &want_numbers}})
      for (auto token : python_split(line)) {
        auto number = parse_decimal(token);
        if (!number) return false;
        numbers->push_back(std::move(*number));
      }
    if (got_numbers.size() != want_numbers.size()) return false;
    for (std::size_t t = 0; t < got_numbers.size(); ++t)
      if (!decimals_equal(got_numbers[t], want_numbers[t])) return false;
  }
  return true;
}

bool tokens_match(std::string_view actual, std::string_view expected, double float_tolerance) {
  auto got = split_ascii_whitespace(actual), want = split_ascii_whitespace(expected);
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    // Codeforces' yes/no problems accept any letter case ("yEs"), and their expected outputs use it too.
    if ((equals_ignore_case(want[i], "yes") || equals_ignore_case(want[i], "no")) && equals_ignore_case(got[i], want[i])) continue;
    if (float_tolerance <= 0) return false;
    auto x = parse_double(got[i]), y = parse_double(want[i]);
    if (!x || !y || !std::isfinite(*x) || !std::isfinite(*y)) return false;
    if (std::fabs(*x - *y) > float_tolerance * std::max(1.0, std::fabs(*y))) return false;
  }
  return true;
}

bool json_values_match(std::string_view actual_json, std::string_view expected_json) {
  auto a = parse_python_value(actual_json), b = parse_python_value(expected_json);
  return a && b && python_equal(*a, *b);
}

}  // namespace r1lab::code
