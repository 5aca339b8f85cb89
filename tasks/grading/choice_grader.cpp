#include "tasks/grading/choice_grader.h"

#include <cctype>
#include <string>

#include "tasks/grading/reasoning_split.h"

namespace r1lab::grading {

namespace {

bool is_letter_in_range(char c, char last) {
  char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper >= 'A' && upper <= last;
}

// Skips decoration between "Answer:" and the letter: spaces, *, _, (, $, \boxed{, \text{, \textbf{, {.
std::size_t skip_decoration(std::string_view s, std::size_t i) {
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '*' || c == '_' || c == '(' || c == '$' || c == '{' || c == '[') {
      ++i;
      continue;
    }
    if (c == '\\') {
      std::size_t j = i + 1;
      while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j]))) ++j;
      std::string_view command = s.substr(i + 1, j - i - 1);
      if (command == "boxed" || command == "text" || command == "textbf" || command == "mathrm" ||
          command == "mathbf" || command == "(" || j == i + 1) {
        i = j == i + 1 ? i + 2 : j;
        continue;
      }
    }
    break;
  }
  return i;
}

}  // namespace

std::optional<char> extract_choice_letter(std::string_view region, char last_letter) {
  std::string lower(region);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // The last "answer" followed by ':' (after optional markup) and then a letter.
  for (std::size_t at = lower.rfind("answer"); at != std::string::npos; at = at ? lower.rfind("answer", at - 1) : std::string::npos) {
    std::size_t i = at + 6;
    while (i < lower.size() && (lower[i] == '*' || lower[i] == '_' || lower[i] == ' ')) ++i;
    if (i < lower.size() && lower[i] == ':') {
      i = skip_decoration(region, i + 1);
      if (i < region.size() && is_letter_in_range(region[i], last_letter)) {
        std::size_t after = i + 1;
        bool standalone = after >= region.size() || !std::isalpha(static_cast<unsigned char>(region[after]));
        if (standalone) return static_cast<char>(std::toupper(static_cast<unsigned char>(region[i])));
      }
    }
    if (at == 0) break;
  }
  // Else a final standalone letter: the last non-decoration character of the region.
  std::size_t end = region.size();
  while (end > 0) {
    char c = region[end - 1];
    if (std::isspace(static_cast<unsigned char>(c)) || c == '.' || c == ')' || c == '*' || c == '$' || c == '}' || c == ']')
      --end;
    else
      break;
  }
  if (end == 0) return std::nullopt;
  char c = region[end - 1];
  bool standalone = end < 2 || !std::isalnum(static_cast<unsigned char>(region[end - 2])) || region[end - 2] == '(';
  if (c >= 'A' && c <= last_letter && standalone) return c;
  return std::nullopt;
}

Verdict grade_choice(std::string_view completion, const std::array<int, 4>& permutation, int correct_original,
                     const ChoiceGradingOptions& options, std::string_view prompt) {
  auto region = answer_region(completion, options.think_policy, prompt);
  if (!region) return Verdict{VerdictKind::unfinished, "", "", "no </think>: still thinking"};
  auto letter = extract_choice_letter(*region, options.last_letter);
  if (!letter) return Verdict{VerdictKind::no_answer, "", "", "no 'Answer: X' line and no final letter"};
  int shown = *letter - 'A';
  if (shown < 0 || shown >= static_cast<int>(permutation.size()))
    return Verdict{VerdictKind::wrong, std::string(1, *letter), "", "letter outside the choices"};
  int original = permutation[shown];
  Verdict verdict;
  verdict.extracted = std::string(1, *letter);
  verdict.canonical = "choice" + std::to_string(original);
  verdict.kind = original == correct_original ? VerdictKind::correct : VerdictKind::wrong;
  verdict.reason = std::string("letter ") + *letter + " is original choice " + std::to_string(original) +
                   (verdict.is_correct() ? " (the correct one)" : "");
  return verdict;
}

}  // namespace r1lab::grading
