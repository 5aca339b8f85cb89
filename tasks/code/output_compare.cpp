#include "tasks/code/output_compare.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1lab::code {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view strip(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == '\n') {
      lines.push_back(strip(s.substr(start, i - start)));
      start = i + 1;
    }
  return lines;
}

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) tokens.push_back(s.substr(start, i - start));
  }
  return tokens;
}

// A Python Decimal in normal form: value = (-1)^negative * digits * 10^exponent, digits without leading
// or trailing zeros ("" for zero).
struct Decimal {
  bool negative = false;
  bool infinite = false;
  bool nan = false;
  std::string digits;
  long long exponent = 0;
};

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Digits with single underscores between them, as Python allows (PEP 515).
bool take_digits(std::string_view& s, std::string& out) {
  std::size_t i = 0;
  bool any = false;
  while (i < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) { out += s[i++]; any = true; continue; }
    if (s[i] == '_' && any && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) { ++i; continue; }
    break;
  }
  s.remove_prefix(i);
  return any;
}

std::optional<Decimal> parse_decimal(std::string_view text) {
  std::string_view s = strip(text);
  Decimal d;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    d.negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (equals_ignore_case(s, "inf") || equals_ignore_case(s, "infinity")) { d.infinite = true; return d; }
  auto starts_nan = [&](std::string_view prefix) {
    if (s.size() < prefix.size() || !equals_ignore_case(s.substr(0, prefix.size()), prefix)) return false;
    std::string_view rest = s.substr(prefix.size());
    std::string payload;
    return rest.empty() || (take_digits(rest, payload) && rest.empty());
  };
  if (starts_nan("nan") || starts_nan("snan")) { d.nan = true; return d; }
  std::string integer, fraction;
  bool has_integer = take_digits(s, integer);
  bool has_fraction = false;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    has_fraction = take_digits(s, fraction);
  }
  if (!has_integer && !has_fraction) return std::nullopt;
  long long exponent = 0;
  if (!s.empty() && (s[0] == 'e' || s[0] == 'E')) {
    s.remove_prefix(1);
    bool negative_exponent = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) { negative_exponent = s[0] == '-'; s.remove_prefix(1); }
    std::string exponent_digits;
    if (!take_digits(s, exponent_digits)) return std::nullopt;
    if (exponent_digits.size() > 15) exponent_digits = exponent_digits.substr(exponent_digits.size() - 15);  // beyond any real output
    exponent = std::strtoll(exponent_digits.c_str(), nullptr, 10) * (negative_exponent ? -1 : 1);
  }
  if (!s.empty()) return std::nullopt;
  std::string digits = integer + fraction;
  exponent -= static_cast<long long>(fraction.size());
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return d;   // zero, whatever its sign or exponent
  digits.erase(0, first);
  while (digits.back() == '0') { digits.pop_back(); ++exponent; }
  d.digits = digits;
  d.exponent = exponent;
  return d;
}

bool python_equal(const nlohmann::json& a, const nlohmann::json& b) {
  auto numeric = [](const nlohmann::json& j) { return j.is_number() || j.is_boolean(); };
  if (numeric(a) && numeric(b)) {
    auto as_double = [](const nlohmann::json& j) { return j.is_boolean() ? (j.get<bool>() ? 1.0 : 0.0) : j.get<double>(); };
    if (a.is_number_integer() && b.is_number_integer()) {   // exact, as Python ints
      if (a.is_number_unsigned() && b.is_number_unsigned()) return a.get<std::uint64_t>() == b.get<std::uint64_t>();
      if (a.is_number_unsigned() != b.is_number_unsigned()) {   // nlohmann reads every non-negative as unsigned
        const auto& signed_one = a.is_number_unsigned() ? b : a;
        const auto& unsigned_one = a.is_number_unsigned() ? a : b;
        return signed_one.get<std::int64_t>() >= 0 &&
               static_cast<std::uint64_t>(signed_one.get<std::int64_t>()) == unsigned_one.get<std::uint64_t>();
      }
      return a.get<std::int64_t>() == b.get<std::int64_t>();
    }
    return as_double(a) == as_double(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!python_equal(a[i], b[i])) return false;
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !python_equal(*it, *other)) return false;
    }
    return true;
  }
  return a == b;
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
  if (!x || !y || x->nan || y->nan) return false;
  if (x->infinite || y->infinite) return x->infinite && y->infinite && x->negative == y->negative;
  if (x->digits.empty() || y->digits.empty()) return x->digits.empty() && y->digits.empty();
  return x->negative == y->negative && x->digits == y->digits && x->exponent == y->exponent;
}

bool lcb_stdout_matches(std::string_view actual, std::string_view expected) {
  auto got = split_lines(strip(actual)), want = split_lines(strip(expected));
  if (got.size() != want.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (got[i] == want[i]) continue;
    auto got_tokens = split_whitespace(got[i]), want_tokens = split_whitespace(want[i]);
    // Every token of both lines must be a Decimal, else the line is wrong (as LiveCodeBench).
    for (auto tokens : {&got_tokens, &want_tokens})
      for (auto token : *tokens)
        if (!parse_decimal(token)) return false;
    if (got_tokens.size() != want_tokens.size()) return false;
    for (std::size_t t = 0; t < got_tokens.size(); ++t)
      if (!decimal_strings_equal(got_tokens[t], want_tokens[t])) return false;
  }
  return true;
}

bool tokens_match(std::string_view actual, std::string_view expected, double float_tolerance) {
  auto got = split_whitespace(actual), want = split_whitespace(expected);
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
  auto a = nlohmann::json::parse(actual_json, nullptr, false);
  auto b = nlohmann::json::parse(expected_json, nullptr, false);
  if (a.is_discarded() || b.is_discarded()) return false;
  return python_equal(a, b);
}

}  // namespace r1lab::code
