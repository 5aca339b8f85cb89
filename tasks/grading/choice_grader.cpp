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

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '\''; }

// An upper-case letter in A..last that stands alone: no word character on either side. "(C)" and "C," do.
bool standalone_letter_at(std::string_view s, std::size_t i, char last) {
  if (i >= s.size() || s[i] < 'A' || s[i] > last) return false;
  if (i > 0 && is_word_char(s[i - 1])) return false;
  return i + 1 >= s.size() || !is_word_char(s[i + 1]);
}

// The letter a committing phrase names: "answer"/"option"/"choice", then at most four lower-case words
// among which "is" or "be" ("is", "must be", "is clearly", "is therefore"), then the letter, with only
// spaces, '(' and '*' around it. Without the verb a letter is only named ("option B is wrong"); "not" ends
// the phrase ("the answer is not A" commits to nothing).
std::optional<char> letter_after_phrase(std::string_view region, std::string_view lower, std::size_t at, char last) {
  std::size_t i = at;
  bool copula = false;
  for (int words = 0; words <= 4; ++words) {
    while (i < region.size() && (region[i] == ' ' || region[i] == '(' || region[i] == '*')) ++i;
    if (standalone_letter_at(region, i, last)) return copula ? std::optional<char>(region[i]) : std::nullopt;
    std::size_t end = i;
    while (end < region.size() && std::islower(static_cast<unsigned char>(region[end]))) ++end;
    std::string_view word = lower.substr(i, end - i);
    if (end == i || word == "not") return std::nullopt;
    copula = copula || word == "is" || word == "be";
    i = end;
  }
  return std::nullopt;
}

std::optional<char> last_committing_phrase(std::string_view region, std::string_view lower, char last) {
  std::optional<char> found;
  std::size_t found_at = 0;
  for (std::string_view keyword : {"answer", "option", "choice"}) {
    for (std::size_t at = lower.find(keyword); at != std::string_view::npos; at = lower.find(keyword, at + 1)) {
      if (at > 0 && is_word_char(lower[at - 1])) continue;
      std::size_t after = at + keyword.size();
      if (after < lower.size() && lower[after] == 's') ++after;   // "options"
      if (after < lower.size() && is_word_char(lower[after])) continue;
      auto letter = letter_after_phrase(region, lower, after, last);
      if (letter && (!found || at >= found_at)) found = letter, found_at = at;
    }
  }
  return found;
}

// The last line, when it opens with the letter: "C. It cannot be B", "(C) because ...", "C: ...".
std::optional<char> leading_letter_of_last_line(std::string_view region, char last) {
  std::size_t end = region.find_last_not_of(" \t\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  std::size_t start = region.rfind('\n', end);
  start = start == std::string_view::npos ? 0 : start + 1;
  while (start < end && (region[start] == ' ' || region[start] == '*' || region[start] == '(')) ++start;
  if (!standalone_letter_at(region, start, last) || start + 1 > end) return std::nullopt;
  char after = region[start + 1];
  if (after == '.' || after == ')' || after == ':') return region[start];
  return std::nullopt;
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
  // Else the letter a committing phrase names, the last such phrase ("the answer is clearly C, not A or D").
  if (auto letter = last_committing_phrase(region, lower, last_letter)) return letter;
  // Else a last line that opens with the letter ("C. It cannot be B").
  if (auto letter = leading_letter_of_last_line(region, last_letter)) return letter;
  // Else a final standalone letter: the last non-decoration character of the region, unless negated
  // ("... so it is not A.").

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
  if (c < 'A' || c > last_letter || !standalone) return std::nullopt;
  std::size_t word_end = end - 1;
  while (word_end > 0 && !is_word_char(region[word_end - 1])) --word_end;
  if (word_end >= 3 && lower.substr(word_end - 3, 3) == "not" && (word_end == 3 || !is_word_char(lower[word_end - 4])))
    return std::nullopt;
  return c;
}

Verdict grade_choice(std::string_view completion, const std::array<int, 4>& permutation, int correct_original,
                     const ChoiceGradingOptions& options, std::string_view prompt) {
  auto region = answer_region(completion, options.think_policy, prompt);
  if (!region) return verdict_before_comparison(VerdictKind::unfinished, "no </think>: still thinking");
  auto letter = extract_choice_letter(*region, options.last_letter);
  if (!letter) return verdict_before_comparison(VerdictKind::no_answer, "no 'Answer: X' line and no final letter");
  int shown = *letter - 'A';
  if (shown < 0 || shown >= static_cast<int>(permutation.size()))
    return verdict_before_comparison(VerdictKind::wrong, "letter outside the choices", std::string(1, *letter));
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
