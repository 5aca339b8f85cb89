#include "tasks/grading/choice_extract.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace r1lab::grading {

namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool has_at(std::string_view s, std::size_t i, std::string_view what) {
  return i <= s.size() && s.substr(i, what.size()) == what;
}

bool word_starts_at(std::string_view lower, std::size_t i) {
  return i == 0 || (!is_alpha(lower[i - 1]) && lower[i - 1] != '\'');
}

// The lower-case word (letters and apostrophes) at i; empty when none starts there.
std::string_view word_at(std::string_view lower, std::size_t i) {
  if (i > lower.size()) return {};
  std::size_t end = i;
  while (end < lower.size() && (is_alpha(lower[end]) || lower[end] == '\'')) ++end;
  return lower.substr(i, end - i);
}

template <std::size_t N>
bool is_one_of(std::string_view word, const std::string_view (&words)[N]) {
  return std::find(std::begin(words), std::end(words), word) != std::end(words);
}

// The length of a separating dash at i: an em or en dash, or a hyphen between spaces; 0 when none.
std::size_t dash_at(std::string_view s, std::size_t i) {
  if (has_at(s, i, "\xE2\x80\x94") || has_at(s, i, "\xE2\x80\x93")) return 3;
  if (has_at(s, i, "--")) return 2;
  if (i < s.size() && s[i] == '-' && (i + 1 == s.size() || is_blank(s[i + 1]))) return 1;
  return 0;
}

struct LetterToken {
  char letter = 0;        // upper case
  std::size_t begin = 0;  // the letter itself
  std::size_t end = 0;    // after the letter and its closing decoration
  bool marked = false;    // in parentheses, bold, boxed or named ("option C"): a letter, not an article
};

constexpr std::string_view kFormatting[] = {"boxed", "fbox",   "text",   "textbf", "textit", "textrm", "emph",
                                            "mathrm", "mathbf", "mathit", "texttt", "mathtt", "underline"};

// An option letter at i, after decoration: spaces, * _ " $ { [ (, \( and \[, formatting commands (\boxed{,
// \text{, ...) and the word "option" or "choice". It must stand alone: "D-glucose", "C-H", "B's", "A–D"
// and "A2" hold no letter. A lower-case letter counts when `lower_ok`, or in parentheses: "(c)".
std::optional<LetterToken> read_letter(std::string_view s, std::size_t i, char last, bool lower_ok) {
  bool marked = false, parenthesised = false, named = false;
  while (i < s.size()) {
    char c = s[i];
    if (is_blank(c) || c == '_' || c == '"' || c == '$' || c == '{' || c == '[' || c == '*' || c == '(') {
      marked = marked || c == '*' || c == '(';
      parenthesised = c == '(' || (parenthesised && is_blank(c));
      ++i;
      continue;
    }
    if (c == '\\') {
      std::size_t j = i + 1;
      while (j < s.size() && is_alpha(s[j])) ++j;
      if (j == i + 1 && j < s.size() && (s[j] == '(' || s[j] == '[')) {
        i = j + 1;
        continue;
      }
      if (is_one_of(s.substr(i + 1, j - i - 1), kFormatting)) {
        marked = true;
        i = j;
        continue;
      }
      return std::nullopt;
    }
    if (!named && is_alpha(c)) {
      std::string word = lowercase(s.substr(i, 6));
      if ((word == "option" || word == "choice") && i + 6 < s.size() && (is_blank(s[i + 6]) || s[i + 6] == '(')) {
        named = marked = true;
        i += 6;
        continue;
      }
    }
    break;
  }
  if (i >= s.size()) return std::nullopt;
  char c = s[i];
  char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper < 'A' || upper > last || (i > 0 && is_alnum(s[i - 1]))) return std::nullopt;
  std::size_t after = i + 1;
  if (after < s.size()) {
    char next = s[after];
    if (is_alnum(next)) return std::nullopt;
    bool joined = (next == '\'' || next == '-') && after + 1 < s.size() && is_alnum(s[after + 1]);
    bool range = dash_at(s, after) == 3 && after + 3 < s.size() && is_alnum(s[after + 3]);
    if (joined || range) return std::nullopt;
  }
  if (c != upper && !lower_ok && !(parenthesised && after < s.size() && s[after] == ')')) return std::nullopt;
  std::size_t end = after;
  while (end < s.size() && std::string_view(")*_}$]\"").find(s[end]) != std::string_view::npos) ++end;
  if (has_at(s, end, "\\)") || has_at(s, end, "\\]")) end += 2;
  bool labelled = after < s.size() && s[after] == ')';  // "A) 2.5 eV": the option's own label
  return LetterToken{upper, i, end, marked || parenthesised || labelled};
}

// What follows a letter: where it ends the clause, it is chosen; a second letter makes a hedge.
enum class Continuation {
  ends,      // end of line, punctuation, a dash
  text,      // more words: "C since B fails", "C 4.5 eV"
  list_or,   // "B or C", "C/D"
  list_and,  // "B and D", "B, D"
  question,  // "C?"
  clause,    // the letter is only part of the clause: "it is C that ...", "A = 1"
};

Continuation continuation(std::string_view s, std::string_view lower, std::size_t i, char last) {
  while (i < s.size() && is_blank(s[i])) ++i;
  if (i >= s.size() || s[i] == '\n') return Continuation::ends;
  auto letter_from = [&](std::size_t k) { return read_letter(s, k, last, false).has_value(); };
  if (s[i] == '/' && letter_from(i + 1)) return Continuation::list_or;
  if (has_at(lower, i, "or ") && letter_from(i + 2)) return Continuation::list_or;
  if (has_at(lower, i, "and ") && letter_from(i + 3)) return Continuation::list_and;
  if (s[i] == ',' && letter_from(i + 1)) return Continuation::list_and;
  if (s[i] == '?') return Continuation::question;
  if (std::string_view("=<>+^").find(s[i]) != std::string_view::npos) return Continuation::clause;
  if (std::string_view(".,;:!)").find(s[i]) != std::string_view::npos || dash_at(s, i)) return Continuation::ends;
  static constexpr std::string_view kClauseWords[] = {"that", "to", "of", "is", "are", "was", "were", "has", "have",
                                                      "can", "could", "would", "will", "should", "might", "must",
                                                      "does", "did", "and"};
  if (is_one_of(word_at(lower, i), kClauseWords)) return Continuation::clause;
  return Continuation::text;
}

// "If the answer is B", "suppose it is B", "whether C is correct": a condition within the clause before `at`.
bool conditional_before(std::string_view lower, std::size_t at) {
  static constexpr std::string_view kConditions[] = {"if", "suppose", "supposing", "assume", "assuming", "whether",
                                                     "unless", "were"};
  std::size_t i = at;
  for (int words = 0; words < 4; ++words) {
    while (i > 0 && (is_blank(lower[i - 1]) || lower[i - 1] == '*' || lower[i - 1] == '_')) --i;
    if (i == 0 || !(is_alpha(lower[i - 1]) || lower[i - 1] == '\'')) return false;
    std::size_t end = i;
    while (i > 0 && (is_alpha(lower[i - 1]) || lower[i - 1] == '\'')) --i;
    if (is_one_of(lower.substr(i, end - i), kConditions)) return true;
  }
  return false;
}

// One commitment to a letter, or to two (a hedge). `explicit_form`: a box, tag, label line, a line that is
// only the letter, or "the answer/option/choice is X"; the rest (pronouns, letter first, verbs, a last line
// opening with the letter) is prose, which overrides an earlier explicit form only as a correction.
struct Commitment {
  std::size_t at;
  char letter;
  bool hedge;
  bool explicit_form;
  const char* how;
};

void add(std::vector<Commitment>& out, std::size_t at, char letter, Continuation after, bool explicit_form,
         const char* how) {
  if (after == Continuation::question || after == Continuation::clause) return;
  bool hedge = after == Continuation::list_or || after == Continuation::list_and;
  out.push_back({at, letter, hedge, explicit_form, how});
}

// "the answer is clearly C, not A", "the correct option is therefore D", "it must be C", "which is D",
// "it's C": a subject, then words with "is"/"be" among them, then the letter. After "answer", "option" or
// "choice" any four words; after a pronoun only a few adverbs and auxiliaries.
void phrase_commitments(std::string_view s, std::string_view lower, char last, std::vector<Commitment>& out) {
  static constexpr std::string_view kSubjects[] = {"answer", "option", "choice", "it", "which", "this", "it's"};
  static constexpr std::string_view kStops[] = {"not",   "cannot",  "can't", "isn't", "unlikely", "never", "neither",
                                                "nor",   "one",     "between", "hardly", "wrong", "incorrect",
                                                "false", "whether", "if"};
  static constexpr std::string_view kPronounWords[] = {
      "is",   "be",      "must",   "should", "would",     "will",   "has",    "to",       "have",  "clearly",
      "definitely", "certainly", "therefore", "thus", "then", "indeed", "probably", "likely", "surely", "again",
      "still", "either", "actually", "really", "so", "now", "also", "most", "obviously", "hence", "just", "can",
      "only"};
  for (std::string_view subject : kSubjects) {
    bool noun = subject == "answer" || subject == "option" || subject == "choice";
    for (std::size_t at = lower.find(subject); at != std::string_view::npos; at = lower.find(subject, at + 1)) {
      if (!word_starts_at(lower, at)) continue;
      std::size_t i = at + subject.size();
      if (noun && i < lower.size() && lower[i] == 's') ++i;
      if (i < lower.size() && (is_alpha(lower[i]) || lower[i] == '\'')) continue;
      if (conditional_before(lower, at)) continue;
      // "the answer is", "the correct option is" state the answer; "the most stable option is" describes one.
      bool states_answer = subject == "answer";
      for (std::string_view qualifier : {"correct ", "right ", "best ", "final "})
        states_answer = states_answer || (at >= qualifier.size() && has_at(lower, at - qualifier.size(), qualifier));
      bool copula = subject == "it's";
      for (int words = 0; words <= 4; ++words) {
        while (i < s.size() && (is_blank(s[i]) || s[i] == ',' || s[i] == ':')) ++i;
        if (auto token = read_letter(s, i, last, false)) {
          if (copula) add(out, at, token->letter, continuation(s, lower, token->end, last), states_answer, "phrase");
          break;
        }
        std::string_view word = word_at(lower, i);
        if (word.empty() || is_one_of(word, kStops) || (!noun && !is_one_of(word, kPronounWords))) break;
        copula = copula || word == "is" || word == "be";
        i += word.size();
      }
    }
  }
}

// "Option C is correct", "C is the answer", "(C) is the right one", "choice (C), 4.5 eV, is correct".
void letter_first_commitments(std::string_view s, std::string_view lower, char last, std::vector<Commitment>& out) {
  static constexpr std::string_view kAdverbs[] = {"clearly", "definitely", "certainly", "indeed", "therefore", "thus",
                                                  "then", "the", "our", "my", "most", "surely", "also", "actually",
                                                  "really", "obviously", "hence"};
  static constexpr std::string_view kVerdicts[] = {"correct", "right", "answer", "best", "true", "likely"};
  for (std::size_t p = 0; p < s.size(); ++p) {
    if (s[p] < 'A' || s[p] > last || (p > 0 && is_alnum(s[p - 1]))) continue;
    auto token = read_letter(s, p, last, false);
    if (!token || token->begin != p) continue;
    std::size_t start = p;
    if (start > 0 && s[start - 1] == '(') --start;
    for (std::string_view name : {"option ", "choice "})
      if (start >= name.size() && has_at(lower, start - name.size(), name)) start -= name.size();
    if (conditional_before(lower, start)) continue;
    std::size_t i = token->end;
    std::size_t rather = s.find_first_not_of(" \t", i);
    if (rather != std::string_view::npos && has_at(lower, rather, "rather than ") && read_letter(s, rather + 12, last, false)) {
      out.push_back({start, token->letter, false, false, "letter first"});  // "So C rather than A."
      continue;
    }
    if (i < s.size() && s[i] == ',') {  // an apposition: "choice (C), 4.5 eV, is correct"
      std::size_t close = s.find(',', i + 1);
      std::string_view apposition = close == std::string_view::npos ? s.substr(i) : s.substr(i, close - i);
      if (close != std::string_view::npos && close - i <= 40 && apposition.find('\n') == std::string_view::npos &&
          apposition.find(". ") == std::string_view::npos)
        i = close + 1;
    }
    while (i < s.size() && (is_blank(s[i]) || s[i] == ':')) ++i;
    if (std::size_t dash = dash_at(s, i)) i += dash;
    while (i < s.size() && is_blank(s[i])) ++i;
    if (has_at(lower, i, "is ")) i += 3;
    else if (!(token->marked || has_at(s, token->begin + 1, ":") || dash_at(s, token->end + 1))) continue;  // "C) correct", "C: correct"
    for (int words = 0; words < 3; ++words) {
      while (i < s.size() && is_blank(s[i])) ++i;
      std::string_view word = word_at(lower, i);
      if (is_one_of(word, kVerdicts)) {
        out.push_back({start, token->letter, false, false, "letter first"});
        break;
      }
      if (!is_one_of(word, kAdverbs)) break;
      i += word.size();
    }
  }
}

// "I'll go with C", "choose C", "leaving C": a verb of choosing and the letter.
void verb_commitments(std::string_view s, std::string_view lower, char last, std::vector<Commitment>& out) {
  static constexpr std::string_view kVerbs[] = {"go with", "going with", "choose", "choosing", "pick",  "picking",
                                                "select",  "selecting",  "opt for", "settle on", "leaving", "leaves",
                                                "i'd say", "i would say", "i'll say"};
  for (std::string_view verb : kVerbs) {
    for (std::size_t at = lower.find(verb); at != std::string_view::npos; at = lower.find(verb, at + 1)) {
      if (!word_starts_at(lower, at) || conditional_before(lower, at)) continue;
      std::size_t i = at + verb.size();
      if (i >= s.size() || !is_blank(s[i])) continue;
      if (auto token = read_letter(s, i, last, false))
        add(out, at, token->letter, continuation(s, lower, token->end, last), false, "verb");
    }
  }
}

void prose_commitments(std::string_view s, std::string_view lower, char last, std::vector<Commitment>& out) {
  phrase_commitments(s, lower, last, out);
  letter_first_commitments(s, lower, last, out);
  verb_commitments(s, lower, last, out);
}

struct Found {
  char letter;
  bool hedge;
};

// The letter a statement gives: the content of a box, a tag or a label line. Its leading letter ("C",
// "(C) 4.5 eV", "Option C — 4.5 eV"), unless that may be an article ("A 2:1 mixture") or a lower-case word;
// else an option it names ("D-glucose (option B)", "4.5 eV (C)"); else its prose ("B and D can be ruled
// out, leaving C"); else an article-like "A".
std::optional<Found> statement_letter(std::string_view content, char last) {
  std::string lower = lowercase(content);
  std::optional<Found> weak, hedge;
  if (auto lead = read_letter(content, 0, last, true)) {
    Continuation after = continuation(content, lower, lead->end, last);
    bool lower_case = content[lead->begin] != lead->letter;
    if (after == Continuation::list_or) return Found{lead->letter, true};
    if (after == Continuation::list_and) hedge = Found{lead->letter, true};
    bool ends = after == Continuation::ends;
    if (ends || (lead->marked && after == Continuation::text)) return Found{lead->letter, false};
    if (after == Continuation::text && !lower_case) {
      if (lead->letter != 'A') return Found{lead->letter, false};
      weak = Found{lead->letter, false};
    }
  }
  for (std::size_t i = 0; i < content.size(); ++i) {
    bool named = (has_at(lower, i, "option") || has_at(lower, i, "choice")) && word_starts_at(lower, i);
    if (!named && content[i] != '(') continue;
    auto token = read_letter(content, i, last, false);
    if (token && (named || token->begin == i + 1) && token->marked) return Found{token->letter, false};
  }
  std::vector<Commitment> prose;
  prose_commitments(content, lower, last, prose);
  if (!prose.empty()) {
    auto latest = std::max_element(prose.begin(), prose.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return Found{latest->letter, latest->hedge};
  }
  return weak ? weak : hedge;
}

// The text a label introduces: the rest of its line, or the next non-empty line when the label ends it
// ("**Final Answer:**\n\nC").
std::string_view label_content(std::string_view s, std::size_t i) {
  std::size_t eol = std::min(s.find('\n', i), s.size());
  std::string_view rest = s.substr(i, eol - i);
  if (rest.find_first_not_of(" \t\r*_:") != std::string_view::npos) return rest;
  for (std::size_t start = eol + 1; start < s.size();) {
    std::size_t end = std::min(s.find('\n', start), s.size());
    std::string_view line = s.substr(start, end - start);
    if (line.find_first_not_of(" \t\r*_") != std::string_view::npos) return line;
    start = end + 1;
  }
  return {};
}

void add_statement(std::vector<Commitment>& out, std::size_t at, std::string_view content, char last, const char* how) {
  if (auto found = statement_letter(content, last)) out.push_back({at, found->letter, found->hedge, true, how});
}

// "Answer: C" anywhere; at the start of a line also "Final choice: C", "Correct option: C", "Answer — C".
void label_commitments(std::string_view s, std::string_view lower, char last, std::vector<Commitment>& out) {
  for (std::size_t at = lower.find("answer"); at != std::string_view::npos; at = lower.find("answer", at + 1)) {
    if (!word_starts_at(lower, at)) continue;
    std::size_t i = at + 6;
    while (i < s.size() && (is_blank(s[i]) || s[i] == '*' || s[i] == '_')) ++i;
    if (i < s.size() && s[i] == ':') add_statement(out, at, label_content(s, i + 1), last, "answer line");
  }
  for (std::size_t start = 0; start < s.size();) {
    std::size_t end = std::min(s.find('\n', start), s.size());
    std::size_t i = start;
    while (i < end && (is_blank(s[i]) || s[i] == '#' || s[i] == '*' || s[i] == '_' || s[i] == '>')) ++i;
    if (has_at(lower, i, "the ")) i += 4;
    bool qualified = false;
    for (std::string_view qualifier : {"final ", "correct ", "best "})
      if (has_at(lower, i, qualifier)) i += qualifier.size(), qualified = true;
    std::size_t label_end = 0;
    for (std::string_view label : {"answer choice", "answer", "choice", "option"})
      if (has_at(lower, i, label) && (qualified || label == "answer" || label == "answer choice")) {
        label_end = i + label.size();
        break;
      }
    if (label_end) {
      i = label_end;
      while (i < end && (is_blank(s[i]) || s[i] == '*' || s[i] == '_')) ++i;
      std::size_t dash = dash_at(s, i);
      bool colon = i < end && s[i] == ':';
      bool bare_answer_colon = colon && has_at(lower, label_end - 6, "answer");  // read by the loop above
      if ((dash || colon) && !bare_answer_colon)
        add_statement(out, start, label_content(s, i + (colon ? 1 : dash)), last, "answer line");
    }
    start = end + 1;
  }
}

// Every \boxed{} / \fbox{}; a second box right after a first with another letter is a hedge.
void box_commitments(std::string_view s, char last, std::vector<Commitment>& out) {
  std::size_t previous_end = std::string_view::npos;
  char previous_letter = 0;
  for (std::size_t at = s.find('\\'); at != std::string_view::npos; at = s.find('\\', at + 1)) {
    std::size_t i = at + 1;
    if (has_at(s, i, "boxed")) i += 5;
    else if (has_at(s, i, "fbox")) i += 4;
    else continue;
    while (i < s.size() && is_blank(s[i])) ++i;
    if (i >= s.size() || s[i] != '{') continue;
    int depth = 0;
    std::size_t close = i;
    for (; close < s.size(); ++close) {
      if (s[close] == '{') ++depth;
      if (s[close] == '}' && --depth == 0) break;
    }
    if (close >= s.size()) continue;
    std::optional<Found> found = statement_letter(s.substr(i + 1, close - i - 1), last);
    if (found) {
      bool joined = false;
      if (previous_end != std::string_view::npos) {
        std::string gap = lowercase(s.substr(previous_end, at - previous_end));
        for (std::string_view filler : {"and", "or", "\\(", "\\)", "\\quad"})
          for (std::size_t p = gap.find(filler); p != std::string::npos; p = gap.find(filler)) gap.erase(p, filler.size());
        joined = gap.find_first_not_of(" \t\n,;$") == std::string::npos;
      }
      bool hedge = found->hedge || (joined && previous_letter != found->letter);
      out.push_back({at, found->letter, hedge, true, "box"});
      previous_end = close + 1;
      previous_letter = found->letter;
    }
    at = close;
  }
}

void tag_commitments(std::string_view s, std::string_view lower, char last, std::vector<Commitment>& out) {
  for (std::size_t at = lower.find("<answer>"); at != std::string_view::npos; at = lower.find("<answer>", at + 1)) {
    std::size_t close = lower.find("</answer>", at);
    if (close == std::string_view::npos) continue;
    std::string_view content = s.substr(at + 8, close - at - 8);
    std::size_t first = content.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos) add_statement(out, at, content.substr(first), last, "answer tag");
  }
}

// Lines: one that is only the letter ("**C**", "(C)", "C."), a bold line that opens with it ("**C) 4.5
// eV**"), and the last line when it opens with it ("C. It cannot be B", "Option C: 4.5 eV", "C, not B").
void line_commitments(std::string_view s, char last, std::vector<Commitment>& out) {
  std::size_t last_line = std::string_view::npos;
  for (std::size_t start = 0; start < s.size();) {
    std::size_t end = std::min(s.find('\n', start), s.size());
    std::string_view line = s.substr(start, end - start);
    std::size_t first = line.find_first_not_of(" \t\r");
    std::size_t final = line.find_last_not_of(" \t\r");
    if (first != std::string_view::npos) {
      std::string_view trimmed = line.substr(first, final + 1 - first);
      if (trimmed.find_first_not_of("-*=_") != std::string_view::npos) last_line = start + first;  // not a rule
      if (auto token = read_letter(trimmed, 0, last, false)) {
        std::size_t after = token->end;
        while (after < trimmed.size() && std::string_view(".:) *_").find(trimmed[after]) != std::string_view::npos) ++after;
        bool alone = after >= trimmed.size();
        bool bold = has_at(trimmed, 0, "**") && trimmed.size() > 4 && trimmed.substr(trimmed.size() - 2) == "**" &&
                    token->begin + 1 < trimmed.size() && std::string_view(".):").find(trimmed[token->begin + 1]) != std::string_view::npos;
        if (alone || bold) out.push_back({start + first, token->letter, false, alone, "line"});
      }
    }
    start = end + 1;
  }
  if (last_line == std::string_view::npos) return;
  std::string_view line = s.substr(last_line, std::min(s.find('\n', last_line), s.size()) - last_line);
  auto token = read_letter(line, 0, last, false);
  if (!token || token->begin + 1 >= line.size()) return;
  std::size_t after = token->begin + 1;
  std::size_t spaced = line.find_first_not_of(" \t", after);
  bool punctuated = std::string_view(".):,").find(line[after]) != std::string_view::npos ||
                    (spaced != std::string_view::npos && dash_at(line, spaced)) || (token->marked && is_blank(line[after]));
  std::string lower = lowercase(line);
  // "D) wrong", "D: not possible": the last of a list of rejected options.
  static constexpr std::string_view kRejections[] = {"wrong", "incorrect", "false", "not", "no", "unlikely",
                                                     "eliminated", "ruled", "impossible", "invalid"};
  std::size_t next_word = lower.find_first_not_of(" \t.):,-*_\xE2\x80\x93\x94", token->end);
  bool rejected = next_word != std::string::npos && is_one_of(word_at(lower, next_word), kRejections) &&
                  !(has_at(lower, next_word, "not ") && read_letter(line, next_word + 4, last, false));  // "C, not B"
  if (punctuated && !rejected && continuation(line, lower, token->end, last) != Continuation::list_or)
    out.push_back({last_line, token->letter, false, false, "last line"});
}

// A word between an explicit answer and a later prose one that says the model changed its mind.
bool correction_between(std::string_view lower, std::size_t from, std::size_t to) {
  static constexpr std::string_view kCues[] = {"wait", "actually", "correction", "instead", "on second thought",
                                               "i mean", "reconsider", "rechecking", "recomputing", "hmm", "oops",
                                               "mistake", "no,", "no.", "no \xE2\x80\x94", "no -"};
  std::string_view between = lower.substr(from, to - from);
  for (std::string_view cue : kCues)
    for (std::size_t at = between.find(cue); at != std::string_view::npos; at = between.find(cue, at + 1))
      if (word_starts_at(between, at)) return true;
  return false;
}

// No commitment: a standalone letter that ends the answer ("... which matches D."), unless negated ("it is
// not A") or one of two ("torn between B and C").
ChoiceExtraction final_letter(std::string_view s, std::string_view lower, char last) {
  std::size_t end = s.size();
  while (end > 0 && (std::isspace(static_cast<unsigned char>(s[end - 1])) || std::string_view(".)*$}]").find(s[end - 1]) != std::string_view::npos))
    --end;
  if (end == 0) return {std::nullopt, "no answer line, commitment or final letter"};
  char c = s[end - 1];
  bool standalone = end < 2 || !is_alnum(s[end - 2]);
  if (c < 'A' || c > last || !standalone) return {std::nullopt, "no answer line, commitment or final letter"};
  std::size_t word_end = end - 1;
  while (word_end > 0 && !is_alnum(s[word_end - 1]) && s[word_end - 1] != '\'') --word_end;
  std::size_t word_begin = word_end;
  while (word_begin > 0 && (is_alpha(lower[word_begin - 1]) || lower[word_begin - 1] == '\'')) --word_begin;
  std::string_view before = lower.substr(word_begin, word_end - word_begin);
  if (before == "not") return {std::nullopt, "the final letter is negated"};
  if (before == "or" || before == "and") {
    std::size_t k = word_begin;
    while (k > 0 && (is_blank(s[k - 1]) || s[k - 1] == ',' || s[k - 1] == ')' || s[k - 1] == '*')) --k;
    if (k > 0 && s[k - 1] >= 'A' && s[k - 1] <= last && (k < 2 || !is_alnum(s[k - 2])))
      return {std::nullopt, "hedge: the final letter is one of two"};
  }
  if (end >= 3 && s[end - 2] == '/' && s[end - 3] >= 'A' && s[end - 3] <= last)
    return {std::nullopt, "hedge: the final letter is one of two"};
  return {c, "final letter"};
}

}  // namespace

ChoiceExtraction extract_choice(std::string_view region, char last_letter) {
  std::string lower = lowercase(region);
  std::vector<Commitment> found;
  box_commitments(region, last_letter, found);
  tag_commitments(region, lower, last_letter, found);
  label_commitments(region, lower, last_letter, found);
  line_commitments(region, last_letter, found);
  prose_commitments(region, lower, last_letter, found);
  if (found.empty()) return final_letter(region, lower, last_letter);
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  // The last explicit answer, unless prose after it corrects it ("Answer: B\nWait, no — it's C").
  const Commitment* chosen = &found.back();
  const Commitment* last_explicit = nullptr;
  for (const Commitment& c : found)
    if (c.explicit_form) last_explicit = &c;
  if (last_explicit && !correction_between(lower, last_explicit->at, chosen->at)) chosen = last_explicit;
  if (chosen->hedge) return {std::nullopt, std::string("hedge: more than one letter (") + chosen->how + ")"};
  return {chosen->letter, chosen->how};
}

}  // namespace r1lab::grading
