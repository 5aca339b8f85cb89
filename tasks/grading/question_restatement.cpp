#include "tasks/grading/question_restatement.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "tasks/grading/latex_normalize.h"
#include "tasks/grading/math_equivalence.h"
#include "tasks/grading/math_extract.h"

namespace r1lab::grading {

namespace {

bool is_letter(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// "\frac12", "\frac x2", "\frac{1}2" -> "\frac{1}{2}"; "\sqrt\pi" -> "\sqrt{\pi}": LaTeX takes one token (a
// character or a command) as an argument when no brace follows, and models write both forms.
std::string brace_arguments(std::string_view text) {
  struct Command {
    std::string_view name;
    int arguments;
  };
  static constexpr Command kCommands[] = {{"\\frac", 2}, {"\\binom", 2}, {"\\sqrt", 1}};
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const Command* command = nullptr;
    for (const auto& c : kCommands)
      if (text.compare(i, c.name.size(), c.name) == 0 &&
          (i + c.name.size() >= text.size() || !is_letter(text[i + c.name.size()])))
        command = &c;
    if (command == nullptr) {
      out += text[i++];
      continue;
    }
    out += command->name;
    i += command->name.size();
    for (int a = 0; a < command->arguments; ++a) {
      while (i < text.size() && text[i] == ' ') ++i;
      if (i >= text.size()) break;
      if (a == 0 && command->name == "\\sqrt" && text[i] == '[') {  // \sqrt[3]{x}: the index, then the radicand
        std::size_t close = text.find(']', i);
        if (close == std::string_view::npos) break;
        out += text.substr(i, close + 1 - i);
        i = close + 1;
        --a;
        continue;
      }
      std::size_t end = i + 1;
      std::string_view inner = text.substr(i, 1);
      if (text[i] == '{') {
        end = matching_brace(text, i);
        if (end == std::string_view::npos) break;
        inner = text.substr(i + 1, end - i - 2);
      } else if (text[i] == '\\') {
        while (end < text.size() && is_letter(text[end])) ++end;
        inner = text.substr(i, end - i);
      } else if (text[i] == '}') {
        break;
      }
      out += '{' + brace_arguments(inner) + '}';
      i = end;
    }
  }
  return out;
}

// A number, a letter or a lone command symbol, optionally signed: its own value, never "unevaluated".
bool is_plain(std::string_view key) {
  if (!key.empty() && (key.front() == '-' || key.front() == '+')) key.remove_prefix(1);
  if (key.empty()) return true;
  if (key.size() == 1 && is_letter(key[0])) return true;
  if (key[0] == '\\' && std::all_of(key.begin() + 1, key.end(), is_letter)) return true;
  bool seen_point = false;
  for (char c : key) {
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (!is_digit(c)) return false;
  }
  return true;
}

std::optional<std::uint64_t> read_integer(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && is_digit(text[n])) ++n;
  if (n == 0 || n > 18) return std::nullopt;
  std::uint64_t value = std::stoull(std::string(text.substr(0, n)));
  text.remove_prefix(n);
  return value;
}

bool is_square_free(std::uint64_t n) {
  if (n < 2) return false;
  for (std::uint64_t p = 2; p * p <= n; ++p)
    if (n % (p * p) == 0) return false;
  return true;
}

// An integer coefficient (1 when absent) times at most one of \pi and a square-free \sqrt{n}: "3", "2\pi",
// "\sqrt{5}", "7\sqrt{5}". Returns the coefficient, consuming the whole text, or nothing.
std::optional<std::uint64_t> simple_multiple(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t coefficient = 1;
  if (!text.empty() && is_digit(text[0])) {
    auto value = read_integer(text);
    if (!value || *value == 0) return std::nullopt;
    coefficient = *value;
  }
  if (text == "\\pi") return coefficient;
  if (text.substr(0, 6) == "\\sqrt{" && text.back() == '}') {
    std::string_view radicand = text.substr(6, text.size() - 7);
    auto value = read_integer(radicand);
    if (value && radicand.empty() && is_square_free(*value)) return coefficient;
    return std::nullopt;
  }
  if (text.empty()) return coefficient;
  return std::nullopt;
}

// A value already in its simplest form, which a question may state without its answer being unevaluated
// ("Which is largest: $\frac{2}{3}$, $0.6$ or $\frac12$?"): a simple multiple (above), or one over an integer
// in lowest terms ("\frac{3}{4}", "-\frac{\sqrt{2}}{2}", "\frac{2\pi}{3}", "3/4").
bool is_simplest_form(std::string_view key) {
  if (!key.empty() && (key.front() == '-' || key.front() == '+')) key.remove_prefix(1);
  std::string_view numerator, denominator;
  if (key.substr(0, 6) == "\\frac{") {
    std::size_t first_end = matching_brace(key, 5);
    if (first_end == std::string_view::npos || first_end >= key.size() || key[first_end] != '{') return false;
    std::size_t second_end = matching_brace(key, first_end);
    if (second_end != key.size()) return false;
    numerator = key.substr(6, first_end - 7);
    denominator = key.substr(first_end + 1, second_end - first_end - 2);
  } else if (std::size_t slash = key.find('/'); slash != std::string_view::npos) {
    numerator = key.substr(0, slash);
    denominator = key.substr(slash + 1);
  } else {
    return simple_multiple(key).has_value();
  }
  auto coefficient = simple_multiple(numerator);
  auto divisor = read_integer(denominator);
  return coefficient && divisor && denominator.empty() && *divisor > 1 && std::gcd(*coefficient, *divisor) == 1;
}

// Never a restatement on its own: see question_restatement.h.
bool is_a_value(std::string_view key) { return is_plain(key) || is_simplest_form(key); }

// The compared form of an expression: normalised LaTeX, short arguments braced, without whitespace.
std::string restatement_key(std::string_view expression) {
  std::string braced = brace_arguments(normalize_latex(expression).text);
  std::string compact;
  for (char c : braced)
    if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
  // Punctuation closing a span ("For a constant $c,$ ...") is the sentence's, not the expression's.
  while (!compact.empty() && std::string_view(",;:.?").find(compact.back()) != std::string_view::npos) compact.pop_back();
  return compact;
}

// The question's expressions an answer may not merely restate, in their compared form.
std::vector<std::string> question_expressions(std::string_view question) {
  std::vector<std::string> keys;
  auto add = [&](std::string_view expression) {
    std::string key = restatement_key(expression);
    if (!is_a_value(key) && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  for (const auto& span : math_span_contents(question)) {
    add(span);
    auto sides = equality_sides(span);
    if (sides.size() > 1)
      for (const auto& side : sides) add(side);
  }
  return keys;
}

// An answer equal to a reference that holds no trigonometric or logarithmic function value, which still
// writes out a function value the question asks about ("Simplify $\tan 100^\circ + 4 \sin 100^\circ$."
// answered with "\frac{\sin 100^\circ (1 + 4\cos 100^\circ)}{\cos 100^\circ}", for -\sqrt{3}): it has not
// evaluated it.
bool keeps_a_function_value_of_the_question(std::string_view answer, std::string_view reference,
                                            std::string_view question, const Budget& budget) {
  auto answer_values = function_value_keys(answer, budget);
  if (answer_values.empty() || !function_value_keys(reference, budget).empty()) return false;
  for (const auto& span : math_span_contents(question))
    for (const auto& value : function_value_keys(span, budget))
      if (std::find(answer_values.begin(), answer_values.end(), value) != answer_values.end()) return true;
  return false;
}

}  // namespace

std::string restatement(std::string_view answer, std::string_view reference, std::string_view question,
                        const Budget& budget) {
  if (question.empty()) return {};
  std::string key = restatement_key(answer);
  std::string reference_key = restatement_key(reference);
  // "z = (1+2i)6-3i" restates as much as "(1+2i)6-3i"; "x = 3" names a value, even when the question has it.
  std::vector<std::string> candidates = {key};
  auto sides = equality_sides(key);   // the compared form: "AB=4," is the equation AB=4, not a list
  if (sides.size() > 1) candidates.push_back(restatement_key(sides.back()));
  if (is_a_value(candidates.back()) || key == reference_key || candidates.back() == reference_key) return {};
  auto expressions = question_expressions(question);
  bool copies_one = std::any_of(candidates.begin(), candidates.end(), [&](const std::string& candidate) {
    return std::find(expressions.begin(), expressions.end(), candidate) != expressions.end();
  });
  if (copies_one) return "restates an expression of the question (equal by value, not evaluated)";
  // A chain states its last side: "\cos 72^\circ = \frac{\sqrt5 - 1}{4}" has evaluated the question's value.
  if (keeps_a_function_value_of_the_question(equality_sides(answer).back(), reference, question, budget))
    return "keeps a function value of the question unevaluated (equal by value)";
  return {};
}

}  // namespace r1lab::grading
