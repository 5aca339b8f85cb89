#include "tasks/grading/countdown_grader.h"

#include <algorithm>
#include <cctype>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>

#include "tasks/grading/reasoning_split.h"

namespace r1lab::grading {

namespace {

// An exact rational with 128-bit intermediates; any overflow of the 64-bit result is an error (no
// Countdown answer gets near it honestly).
struct Fraction {
  std::int64_t num = 0, den = 1;
};

struct ExpressionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Fraction reduced(__int128 num, __int128 den) {
  if (den == 0) throw ExpressionError("division by zero");
  if (den < 0) num = -num, den = -den;
  __int128 a = num < 0 ? -num : num, b = den;
  while (b != 0) {
    __int128 t = a % b;
    a = b;
    b = t;
  }
  if (a > 1) num /= a, den /= a;
  constexpr __int128 kMax = INT64_MAX;
  if (num > kMax || num < -kMax || den > kMax) throw ExpressionError("a value overflows");
  return {static_cast<std::int64_t>(num), static_cast<std::int64_t>(den)};
}

// Recursive descent over + − * / and parentheses, integers as operands; collects the integers used.
class Evaluator {
 public:
  Evaluator(std::string_view text, std::vector<std::int64_t>& used) : text_(text), used_(used) {}

  Fraction run() {
    Fraction value = expression();
    skip_spaces();
    if (pos_ != text_.size()) throw ExpressionError("unexpected '" + std::string(1, text_[pos_]) + "'");
    return value;
  }

 private:
  void skip_spaces() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool at(char c) {
    skip_spaces();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  Fraction expression() {
    Fraction left = term();
    while (at('+') || at('-')) {
      char op = text_[pos_++];
      Fraction right = term();
      left = reduced(static_cast<__int128>(left.num) * right.den + (op == '+' ? 1 : -1) * static_cast<__int128>(right.num) * left.den,
                     static_cast<__int128>(left.den) * right.den);
    }
    return left;
  }

  Fraction term() {
    Fraction left = factor();
    while (at('*') || at('/')) {
      char op = text_[pos_++];
      Fraction right = factor();
      if (op == '*')
        left = reduced(static_cast<__int128>(left.num) * right.num, static_cast<__int128>(left.den) * right.den);
      else
        left = reduced(static_cast<__int128>(left.num) * right.den, static_cast<__int128>(left.den) * right.num);
    }
    return left;
  }

  Fraction factor() {
    if (++depth_ > 64) throw ExpressionError("nested too deeply");
    Fraction value;
    if (at('(')) {
      ++pos_;
      value = expression();
      if (!at(')')) throw ExpressionError("a '(' is not closed");
      ++pos_;
    } else if (at('-')) {
      ++pos_;   // TinyZero's checker (Python eval) accepts a unary minus; so does this one
      Fraction inner = factor();
      value = {-inner.num, inner.den};
    } else {
      skip_spaces();
      std::size_t start = pos_;
      while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      if (start == pos_) throw ExpressionError(pos_ < text_.size() ? "unexpected '" + std::string(1, text_[pos_]) + "'" : "the expression ends early");
      if (pos_ - start > 12) throw ExpressionError("a number is too long");
      std::int64_t n = std::stoll(std::string(text_.substr(start, pos_ - start)));
      used_.push_back(n);
      value = {n, 1};
    }
    --depth_;
    return value;
  }

  std::string_view text_;
  std::vector<std::int64_t>& used_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Verdict grade_countdown(std::string_view completion, const std::vector<std::int64_t>& numbers, std::int64_t target,
                        ThinkPolicy think_policy, std::string_view prompt) {
  auto region = answer_region(completion, think_policy, prompt);
  if (!region) return verdict_before_comparison(VerdictKind::unfinished, "no </think>: still thinking");
  auto answer = last_closed_answer_tag(*region);
  if (!answer || answer->empty()) return verdict_before_comparison(VerdictKind::no_answer, "no <answer>…</answer> with an expression");
  Verdict verdict;
  verdict.extracted = std::string(*answer);
  std::string expression = verdict.extracted;
  if (std::size_t equals = expression.find('='); equals != std::string::npos) expression.resize(equals);   // "… = 98"
  std::string canonical;
  for (char c : expression)
    if (!std::isspace(static_cast<unsigned char>(c))) canonical += c;
  verdict.canonical = canonical;
  std::vector<std::int64_t> used;
  Fraction value;
  try {
    value = Evaluator(expression, used).run();
  } catch (const ExpressionError& error) {
    verdict.kind = VerdictKind::wrong;
    verdict.reason = std::string("not a valid expression: ") + error.what();
    return verdict;
  }
  std::vector<std::int64_t> given = numbers;
  std::sort(given.begin(), given.end());
  std::sort(used.begin(), used.end());
  if (used != given) {
    verdict.kind = VerdictKind::wrong;
    verdict.reason = "the numbers used are not each given number exactly once";
    return verdict;
  }
  const bool hits = value.den == 1 && value.num == target;
  verdict.kind = hits ? VerdictKind::correct : VerdictKind::wrong;
  verdict.reason = hits ? "uses every number once and equals the target"
                        : "equals " + std::to_string(value.num) + (value.den == 1 ? "" : "/" + std::to_string(value.den)) +
                              ", not " + std::to_string(target);
  return verdict;
}

}  // namespace r1lab::grading
