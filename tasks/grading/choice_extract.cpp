#include "tasks/grading/choice_extract.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace r1lab::grading {

namespace {

// ---- Text helpers ----

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

// The word that ends right before `at` (skipping spaces and emphasis), within the clause; empty at a
// punctuation mark.
std::string_view word_before(std::string_view lower, std::size_t at) {
  std::size_t i = at;
  while (i > 0 && (is_blank(lower[i - 1]) || lower[i - 1] == '*' || lower[i - 1] == '_')) --i;
  std::size_t end = i;
  while (i > 0 && (is_alpha(lower[i - 1]) || lower[i - 1] == '\'' || lower[i - 1] == '.')) --i;
  std::string_view word = lower.substr(i, end - i);
  while (!word.empty() && word.back() == '.') word.remove_suffix(1);  // "i.e." is "i.e"
  return word;
}

template <std::size_t N>
bool is_one_of(std::string_view word, const std::string_view (&words)[N]) {
  return std::find(std::begin(words), std::end(words), word) != std::end(words);
}

// The length of a separating dash at i: an em or en dash, "--", or a hyphen before a space; 0 when none.
std::size_t dash_at(std::string_view s, std::size_t i) {
  if (has_at(s, i, "\xE2\x80\x94") || has_at(s, i, "\xE2\x80\x93")) return 3;
  if (has_at(s, i, "--")) return 2;
  if (i < s.size() && s[i] == '-' && (i + 1 == s.size() || is_blank(s[i + 1]))) return 1;
  return 0;
}

// Check marks: +1 for a tick (✓ ✔ ✅ ☑), -1 for a cross (✗ ✘ ❌), 0 for none; `length` gets its bytes.
int check_mark_at(std::string_view s, std::size_t i, std::size_t* length = nullptr) {
  static constexpr std::string_view kTicks[] = {"\xE2\x9C\x93", "\xE2\x9C\x94", "\xE2\x9C\x85", "\xE2\x98\x91"};
  static constexpr std::string_view kCrosses[] = {"\xE2\x9C\x97", "\xE2\x9C\x98", "\xE2\x9D\x8C"};
  for (std::string_view mark : kTicks)
    if (has_at(s, i, mark)) return length ? (*length = mark.size(), 1) : 1;
  for (std::string_view mark : kCrosses)
    if (has_at(s, i, mark)) return length ? (*length = mark.size(), -1) : -1;
  return 0;
}

// Where the sentence holding `at` starts: after the last ". ", "! ", "? ", ";", a line break or "。".
std::size_t sentence_start(std::string_view s, std::size_t at) {
  for (std::size_t i = at; i > 0; --i) {
    char c = s[i - 1];
    if (c == '\n' || c == ';') return i;
    if ((c == '.' || c == '!' || c == '?') && i < s.size() && is_blank(s[i])) return i;
    if (i >= 3 && has_at(s, i - 3, "\xE3\x80\x82")) return i;
  }
  return 0;
}

// ---- Letters ----

struct LetterToken {
  char letter = 0;        // upper case
  std::size_t begin = 0;  // the letter itself
  std::size_t end = 0;    // after the letter and its closing decoration
  bool named = false;     // "option C", "choice C"
  bool marked = false;    // named, in parentheses, bold, boxed, quoted or labelled "C)": surely a letter
};

constexpr std::string_view kFormatting[] = {"boxed", "fbox",   "text",   "textbf", "textit", "textrm", "emph",
                                            "mathrm", "mathbf", "mathit", "texttt", "mathtt", "underline"};

// An option letter at i, after decoration: spaces, * _ " ' ` $ { [ (, \( and \[, formatting commands
// (\boxed{, \text{, ...) and the word "option" or "choice". It must stand alone: "D-glucose", "C-H", "B's",
// "A–D" and "A2" hold no letter. A lower-case letter counts when `lower_ok`, or before ")": "(c)", "c)".
std::optional<LetterToken> read_letter(std::string_view s, std::size_t i, char last, bool lower_ok) {
  bool marked = false, parenthesised = false, named = false;
  while (i < s.size()) {
    char c = s[i];
    if (is_blank(c) || std::string_view("_\"'`${[*(").find(c) != std::string_view::npos) {
      marked = marked || (c != ' ' && c != '\t' && c != '$' && c != '_');
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
    // "D∞h", "Cℓ": a letter glued to a non-ASCII character is part of a symbol (a dash or "。" is not).
    bool glued = static_cast<unsigned char>(next) >= 0x80 && !dash_at(s, after) && !has_at(s, after, "\xE3\x80\x82") &&
                 !check_mark_at(s, after) && !has_at(s, after, "\xEF\xBC\x8C");
    if (glued) return std::nullopt;
    bool abbreviation = next == '.' && after + 2 < s.size() && s[after + 1] == ' ' && std::islower(static_cast<unsigned char>(s[after + 2]));
    if (joined || range || abbreviation) return std::nullopt;  // "D. melanogaster"
  }
  bool labelled = after < s.size() && s[after] == ')';  // "A) 2.5 eV": the option's own label
  if (c != upper && !lower_ok && !labelled) return std::nullopt;
  std::size_t end = after;
  while (end < s.size() && std::string_view(")*_}$]\"'`").find(s[end]) != std::string_view::npos) ++end;
  if (has_at(s, end, "\\)") || has_at(s, end, "\\]")) end += 2;
  return LetterToken{upper, i, end, named, marked || parenthesised || labelled};
}

// What follows a letter: where it ends the clause, it is chosen; a second letter makes a hedge.
enum class Continuation {
  ends,      // end of line, punctuation, a dash
  text,      // more words: "C since B fails", "C 4.5 eV"
  list_or,   // "B or C", "C/D", "B or possibly C"
  list_and,  // "B and D", "B, D"
  question,  // "C?"
  clause,    // the letter is only part of the clause: "it is C that ...", "A = 1", "A being the ketone"
};

Continuation continuation(std::string_view s, std::string_view lower, std::size_t i, char last) {
  while (i < s.size() && is_blank(s[i])) ++i;
  if (i >= s.size() || s[i] == '\n') return Continuation::ends;
  auto letter_from = [&](std::size_t k) {
    std::string_view hedge = word_at(lower, lower.find_first_not_of(' ', k) == std::string::npos ? k : lower.find_first_not_of(' ', k));
    if (hedge == "possibly" || hedge == "maybe" || hedge == "perhaps") k = lower.find(hedge, k) + hedge.size();
    return read_letter(s, k, last, false).has_value();
  };
  if (s[i] == '/' && letter_from(i + 1)) return Continuation::list_or;
  for (std::string_view word : {"or ", "o ", "ou ", "oder "})
    if (has_at(lower, i, word) && letter_from(i + word.size() - 1)) return Continuation::list_or;
  for (std::string_view word : {"and ", "y ", "et ", "und "})
    if (has_at(lower, i, word) && letter_from(i + word.size() - 1)) return Continuation::list_and;
  if (s[i] == ',' && letter_from(i + 1)) return Continuation::list_and;
  if (s[i] == '?') return Continuation::question;
  if (std::string_view("=<>+^").find(s[i]) != std::string_view::npos) return Continuation::clause;
  if (std::string_view(".,;:!)").find(s[i]) != std::string_view::npos || dash_at(s, i) || has_at(s, i, "\xE3\x80\x82"))
    return Continuation::ends;
  static constexpr std::string_view kClauseWords[] = {"that", "to", "of", "is", "are", "was", "were", "has", "have",
                                                      "can", "could", "would", "will", "should", "might", "must",
                                                      "does", "did", "and", "being", "as"};
  if (is_one_of(word_at(lower, i), kClauseWords)) return Continuation::clause;
  return Continuation::text;
}

// ---- Context before a mention ----

// "If the answer is B", "suppose it is B", "whether C is correct": a condition within the clause before `at`.
bool conditional_before(std::string_view lower, std::size_t at) {
  static constexpr std::string_view kConditions[] = {"if", "suppose", "supposing", "assume", "assuming", "whether",
                                                     "unless", "case"};  // "in which case it would be D"
  std::size_t i = at;
  for (int words = 0; words < 5; ++words) {
    while (i > 0 && (is_blank(lower[i - 1]) || lower[i - 1] == '*' || lower[i - 1] == '_')) --i;
    if (i == 0 || !(is_alpha(lower[i - 1]) || lower[i - 1] == '\'')) return false;
    std::size_t end = i;
    while (i > 0 && (is_alpha(lower[i - 1]) || lower[i - 1] == '\'')) --i;
    if (is_one_of(lower.substr(i, end - i), kConditions)) return true;
  }
  return false;
}

// "If kinetic control applied, the answer would be B": a hypothetical answer, from "if"/"unless" anywhere
// earlier in the sentence together with a modal in the phrase itself.
bool hypothetical(std::string_view lower, std::size_t sentence, std::size_t at) {
  std::string_view before = lower.substr(sentence, at - sentence);
  for (std::string_view word : {"if ", "unless "})
    for (std::size_t p = before.find(word); p != std::string_view::npos; p = before.find(word, p + 1))
      if (word_starts_at(before, p)) return true;
  return false;
}

// "one should not pick B", "a common mistake is to pick B", "the naive answer is B": the words just before
// a mention that make it a rejected or tempting option, not the model's choice.
// With `judged_statements`, also "statement A is true": a judgement of one statement among several.
bool rejected_before(std::string_view lower, std::size_t at, bool judged_statements = true) {
  static constexpr std::string_view kRejections[] = {"not", "never", "don't", "wouldn't", "shouldn't", "won't",
                                                     "didn't", "cannot", "can't", "avoid", "mistake", "trap",
                                                     "tempting", "tempted", "naive", "wrong", "incorrect",
                                                     "initial", "intuitive"};
  std::size_t i = at;
  for (int words = 0; words < 5; ++words) {
    while (i > 0 && (is_blank(lower[i - 1]) || lower[i - 1] == '*' || lower[i - 1] == '_')) --i;
    if (i == 0 || !(is_alpha(lower[i - 1]) || lower[i - 1] == '\'')) return false;
    std::size_t end = i;
    while (i > 0 && (is_alpha(lower[i - 1]) || lower[i - 1] == '\'')) --i;
    std::string_view word = lower.substr(i, end - i);
    if (is_one_of(word, kRejections) || (judged_statements && (word == "statement" || word == "statements"))) return true;
  }
  return false;
}

// ---- Commitments ----

// One commitment to a letter, or to two (a hedge), with how sure its form is. `tier` 2: a box, tag, label
// line, or a sentence that is only the letter; 1: "the answer/correct option is X"; 0: prose. The last
// commitment of the highest tier stands; a later one replaces it only after a correction that opens a
// sentence, and never when it is tentative ("it would be D").
struct Commitment {
  std::size_t at;
  char letter;
  bool hedge;
  int tier;
  const char* how;
  bool tentative = false;
};

struct Scan {
  std::string_view s;
  std::string_view lower;
  char last;
  bool names_letters;  // the question names things A, B, ...: a bare letter in prose may be one of them
  std::vector<Commitment>* out;
  const std::vector<std::string>* options = nullptr;  // the options' texts in the order shown, when known

  void add(std::size_t at, const LetterToken& token, Continuation after, int tier, const char* how,
           bool tentative = false) const {
    if (after == Continuation::question || after == Continuation::clause) return;
    bool hedge = after == Continuation::list_or || after == Continuation::list_and;
    out->push_back({at, token.letter, hedge, tier, how, tentative});
  }
  // In prose, a bare letter counts unless the question uses letters as names.
  bool prose_letter(const LetterToken& token) const { return !names_letters || token.named; }
};

constexpr std::string_view kStops[] = {"not",      "cannot", "can't",   "isn't",   "wouldn't", "shouldn't",
                                       "won't",    "never",  "unlikely", "neither", "nor",      "one",
                                       "between",  "hardly", "wrong",   "incorrect", "false",   "whether",
                                       "if",       "couldn't", "doesn't", "mustn't"};
constexpr std::string_view kAdverbs[] = {"clearly", "definitely", "certainly", "indeed", "therefore", "thus", "then",
                                         "probably", "likely", "surely", "obviously", "hence", "actually", "really",
                                         "simply", "still", "also", "again", "just", "most", "either"};

// "the answer is clearly C, not A", "the correct option is therefore D", "the option that is consistent
// with both is D": "answer", "option" or "choice", then within the sentence "is"/"be", at most two adverbs
// and the letter. A negation cancels the next verb ("the answer cannot be A or B"). "the answer" and "the
// correct/best/final option" state the answer; "the most stable option is A" only describes one.
void noun_phrases(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  for (std::string_view subject : {"answer", "option", "choice", "statement"}) {
    for (std::size_t at = lower.find(subject); at != std::string_view::npos; at = lower.find(subject, at + 1)) {
      if (!word_starts_at(lower, at)) continue;
      std::size_t i = at + subject.size();
      if (i < lower.size() && lower[i] == 's') ++i;
      if (i < lower.size() && (is_alpha(lower[i]) || lower[i] == '\'')) continue;
      if (conditional_before(lower, at)) continue;
      std::string_view qualifier = word_before(lower, at);
      // "the false statement is C" answers "which statement is false"; "statement A is true" judges one.
      static constexpr std::string_view kStatementQualifiers[] = {"correct", "true", "false", "incorrect", "right",
                                                                  "wrong", "only"};
      if (subject == "statement" && !is_one_of(qualifier, kStatementQualifiers)) continue;
      static constexpr std::string_view kTempting[] = {"naive", "trap", "tempting", "wrong", "incorrect",
                                                       "initial", "intuitive", "obvious", "common"};
      if (is_one_of(qualifier, kTempting) && subject != "statement") continue;
      {  // "One might think the answer is B", "a frequent misconception is that the answer is D"
        std::string_view before = lower.substr(sentence_start(lower, at), at - sentence_start(lower, at));
        bool tempting = false;
        for (std::string_view cue : {"might think", "may think", "would think", "misconception", "mistake", "naive",
                                     "tempting", "trap", "at first glance"})
          tempting = tempting || before.find(cue) != std::string_view::npos;
        if (tempting) continue;
      }
      bool states = subject == "answer" || (subject != "statement" && (qualifier == "correct" || qualifier == "right" ||
                                                                          qualifier == "best" || qualifier == "final"));
      std::size_t sentence = sentence_start(lower, at);
      bool negated = false, copula = false, tentative = false, modal = false, denied = false;
      int adverbs = 0;
      for (int tokens = 0; tokens < 16 && i < s.size();) {
        while (i < s.size() && (is_blank(s[i]) || s[i] == ',' || s[i] == ':')) ++i;
        if (i >= s.size() || s[i] == '\n' || s[i] == ';' || ((s[i] == '.' || s[i] == '!') && (i + 1 == s.size() || !is_alnum(s[i + 1]))))
          break;
        if (auto token = read_letter(s, i, last, copula)) {
          if (copula && (states || scan.prose_letter(*token)) &&
              (token->marked || std::isupper(static_cast<unsigned char>(s[token->begin])) ||
               continuation(s, lower, token->end, last) == Continuation::ends)) {
            if (!(modal && hypothetical(lower, sentence, at)))
              scan.add(at, *token, continuation(s, lower, token->end, last), states && !tentative ? 1 : 0, "phrase", tentative || modal);
            break;
          }
          denied = denied || negated;  // "the answer is not B but C"
          i = token->end;
          copula = false;
          ++tokens;
          continue;
        }
        std::string_view word = word_at(lower, i);
        if (word.empty()) {
          ++i;
          copula = false;
          ++tokens;
          continue;
        }
        if (is_one_of(word, kStops)) negated = true;
        if (word == "seems" || word == "seem" || word == "appears" || word == "might" || word == "may") tentative = true;
        if (word == "would" || word == "could" || word == "might") modal = true;
        if ((word == "but" || word == "rather") && denied) {
          copula = true;
          negated = false;
          adverbs = 0;
        } else if (word == "is" || word == "be" || word == "'s") {
          copula = !negated;
          negated = false;
          adverbs = 0;
        } else if (copula && is_one_of(word, kAdverbs) && adverbs < 2) {
          ++adverbs;
        } else {
          copula = false;
        }
        i += word.size();
        ++tokens;
      }
    }
  }
}

// "it must be C", "it's C", "which is D", "this is (C)": a pronoun, at most two auxiliaries or adverbs, a
// verb "is"/"be" and the letter. Prose, never explicit.
void pronoun_phrases(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  static constexpr std::string_view kWords[] = {
      "is", "be", "must", "should", "would", "will", "has", "to", "have", "clearly", "definitely", "certainly",
      "therefore", "thus", "then", "indeed", "probably", "likely", "surely", "again", "still", "either",
      "actually", "really", "so", "now", "also", "most", "obviously", "hence", "just", "can", "only"};
  for (std::string_view subject : {"it's", "it", "which", "this"}) {
    for (std::size_t at = lower.find(subject); at != std::string_view::npos; at = lower.find(subject, at + 1)) {
      if (!word_starts_at(lower, at)) continue;
      std::size_t i = at + subject.size();
      if (i < lower.size() && (is_alpha(lower[i]) || lower[i] == '\'')) continue;
      if (conditional_before(lower, at)) continue;
      bool copula = subject == "it's", modal = false;
      for (int words = 0; words <= 3; ++words) {
        while (i < s.size() && (is_blank(s[i]) || s[i] == ',' || s[i] == ':')) ++i;
        if (auto token = read_letter(s, i, last, false)) {
          bool counterfactual = modal && hypothetical(lower, sentence_start(lower, at), at);
          // "..., which is C, the chain ..." identifies something in passing; "... which is C." concludes.
          std::size_t next = s.find_first_not_of(" \t*_)", token->end);
          bool in_passing = subject == "which" && next != std::string_view::npos && s[next] != '.' && s[next] != '!' &&
                            s[next] != '\n';
          if (copula && scan.prose_letter(*token) && !counterfactual && !in_passing)
            scan.add(at, *token, continuation(s, lower, token->end, last), 0, "phrase", modal);
          break;
        }
        std::string_view word = word_at(lower, i);
        if (word.empty() || is_one_of(word, kStops) || !is_one_of(word, kWords)) break;
        copula = copula || word == "is" || word == "be";
        modal = modal || word == "would" || word == "could" || word == "might";
        i += word.size();
      }
    }
  }
}

// "is option C", "be choice (C)": whatever the subject ("the one with A = enamine ... is option D").
void named_option_predicates(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  for (std::string_view verb : {"is ", "be "}) {
    for (std::size_t at = lower.find(verb); at != std::string_view::npos; at = lower.find(verb, at + 1)) {
      if (!word_starts_at(lower, at)) continue;
      std::size_t i = at + verb.size();
      while (i < s.size() && is_blank(s[i])) ++i;
      if (!has_at(lower, i, "option") && !has_at(lower, i, "choice")) continue;
      auto token = read_letter(s, i, last, false);
      if (!token || !token->named || conditional_before(lower, at) || rejected_before(lower, at)) continue;
      scan.add(at, *token, continuation(s, lower, token->end, last), false, "phrase");
    }
  }
}

// "Option C is correct", "C is the answer", "(C) is the right one", "choice (C), 4.5 eV, is correct",
// "C) correct", "C: ✓", "So C rather than A". The verdict must end its clause: "A is the correct starting
// material" and "A is correct about the geometry" judge something else.
void letter_first(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  static constexpr std::string_view kArticles[] = {"the", "our", "my", "clearly", "definitely", "certainly", "indeed",
                                                   "therefore", "thus", "then", "most", "surely", "also",
                                                   "actually", "really", "obviously", "hence", "much", "far"};
  static constexpr std::string_view kVerdicts[] = {"correct", "right", "answer", "best", "likely", "better", "preferred"};
  static constexpr std::string_view kClosers[] = {"because", "since", "as", "here", "overall", "one", "option",
                                                  "choice", "answer", "answers", "choices", "options", "so", "given"};
  for (std::size_t p = 0; p < s.size(); ++p) {
    if (std::toupper(static_cast<unsigned char>(s[p])) < 'A' || std::toupper(static_cast<unsigned char>(s[p])) > last ||
        (p > 0 && is_alnum(s[p - 1])))
      continue;
    auto token = read_letter(s, p, last, false);
    if (!token || token->begin != p) continue;
    std::size_t start = p;
    while (start > 0 && std::string_view("(*`'\"").find(s[start - 1]) != std::string_view::npos) --start;
    bool named = false;
    for (std::string_view name : {"option ", "choice ", "option(", "choice("})
      if (start >= name.size() && has_at(lower, start - name.size(), name)) start -= name.size(), named = true;
    token->named = token->named || named;
    if (conditional_before(lower, start) || rejected_before(lower, start)) continue;
    std::size_t mark_end = start;  // "✓ C"
    while (mark_end > 0 && is_blank(s[mark_end - 1])) --mark_end;
    bool line_opens = mark_end < 3 || mark_end == 3 || s[mark_end - 4] == '\n';
    if (mark_end >= 3 && check_mark_at(s, mark_end - 3) > 0 && line_opens) {
      if (scan.prose_letter(*token)) out->push_back({mark_end - 3, token->letter, false, 0, "letter first"});
      continue;
    }
    std::size_t i = token->end;
    // "The data point to 4.5 eV, option C; ...", "The answer is vitamin C deficiency, option A.": a named
    // option in apposition that ends its clause.
    std::size_t comma = start;
    while (comma > 0 && is_blank(s[comma - 1])) --comma;
    if (token->named && comma > 0 && s[comma - 1] == ',' && continuation(s, lower, token->end, last) == Continuation::ends) {
      out->push_back({start, token->letter, false, 0, "letter first"});
      continue;
    }
    std::size_t rather = s.find_first_not_of(" \t", i);
    if (rather != std::string_view::npos && has_at(lower, rather, "rather than ") && read_letter(s, rather + 12, last, false) &&
        scan.prose_letter(*token)) {
      out->push_back({start, token->letter, false, 0, "letter first"});  // "So C rather than A."
      continue;
    }
    if (i < s.size() && s[i] == ',') {  // an apposition: "choice (C), 4.5 eV, is correct"
      std::size_t close = s.find(',', i + 1);
      std::string_view apposition = close == std::string_view::npos ? s.substr(i) : s.substr(i, close - i);
      if (close != std::string_view::npos && close - i <= 40 && apposition.find('\n') == std::string_view::npos &&
          apposition.find(". ") == std::string_view::npos)
        i = close + 1;
    }
    bool punctuated = false;
    for (; i < s.size() && (is_blank(s[i]) || s[i] == ':'); ++i) punctuated = punctuated || s[i] == ':';
    if (std::size_t dash = dash_at(s, i)) i += dash, punctuated = true;
    while (i < s.size() && is_blank(s[i])) ++i;
    std::size_t mark_length = 0;
    if (int mark = check_mark_at(s, i, &mark_length)) {  // "C ✓", "C) ✅"
      if (mark > 0) out->push_back({start, token->letter, false, 0, "letter first"});
      continue;
    }
    bool copula = has_at(lower, i, "is ");
    if (copula) i += 3;
    else if (!(token->marked || punctuated)) continue;  // "C) correct", "C: correct"
    if (copula && !scan.prose_letter(*token)) continue;
    for (int words = 0; words < 3; ++words) {
      while (i < s.size() && is_blank(s[i])) ++i;
      std::string_view word = word_at(lower, i);
      if (is_one_of(word, kVerdicts) && (copula || word == "correct" || word == "right")) {
        std::size_t after = i + word.size();
        while (after < s.size() && is_blank(s[after])) ++after;
        bool closes = after >= s.size() || std::string_view(".,;:!)(*_\n").find(s[after]) != std::string_view::npos ||
                      dash_at(s, after) || is_one_of(word_at(lower, after), kClosers);
        if (closes) out->push_back({start, token->letter, false, 0, "letter first"});
        break;
      }
      if (!is_one_of(word, kArticles)) break;
      i += word.size();
    }
  }
}

// "I'll go with C", "choose C", "this matches option C", "corresponds to option C", "leaving C.": a verb of
// choosing and the letter; not after a negation or a mistake ("one should not pick B", "a common mistake is
// to pick B").
void verbs(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  static constexpr std::string_view kVerbs[] = {
      "go with", "going with", "choose", "choosing", "pick", "picking", "select", "selecting", "opt for",
      "settle on", "i'd say", "i would say", "i'll say", "corresponds to", "corresponding to", "correspond to",
      "matches", "match", "matching", "listed as", "listed in", "points to", "leaving", "leaves"};
  for (std::string_view verb : kVerbs) {
    for (std::size_t at = lower.find(verb); at != std::string_view::npos; at = lower.find(verb, at + 1)) {
      std::size_t i = at + verb.size();
      if (!word_starts_at(lower, at) || i >= s.size() || !is_blank(s[i])) continue;
      if (conditional_before(lower, at) || rejected_before(lower, at)) continue;
      auto token = read_letter(s, i, last, false);
      if (!token || !scan.prose_letter(*token)) continue;
      Continuation after = continuation(s, lower, token->end, last);
      bool leaving = verb == "leaving" || verb == "leaves";  // "leaving group", "leaving A as the acid"
      if (leaving && after != Continuation::ends) continue;
      scan.add(at, *token, after, false, "verb");
    }
  }
}

// "Die Antwort ist C", "La respuesta es C", "La bonne réponse est C", "答案是 C": answer phrases in other
// languages.
void foreign_phrases(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  static constexpr std::string_view kPhrases[] = {
      "antwort ist", "antwort lautet", "respuesta es", "respuesta correcta es", "r\xC3\xA9ponse est",
      "resposta \xC3\xA9", "resposta correta \xC3\xA9", "risposta \xC3\xA8", "risposta corretta \xC3\xA8",
      "\xE7\xAD\x94\xE6\xA1\x88\xE6\x98\xAF", "\xE7\xAD\x94\xE6\xA1\x88\xE4\xB8\xBA", "\xE7\xAD\x94\xE6\xA1\x88\xEF\xBC\x9A",
      "\xE7\xAD\x94\xE6\xA1\x88:"};
  for (std::string_view phrase : kPhrases)
    for (std::size_t at = lower.find(phrase); at != std::string_view::npos; at = lower.find(phrase, at + 1))
      if (auto token = read_letter(s, at + phrase.size(), last, false))
        scan.add(at, *token, continuation(s, lower, token->end, last), 1, "phrase");
}

// A sentence or line that is only the letter, after a connective: "C", "**C**", "So C.", "Therefore, option
// C.", "No wait, B.", "Wait, no. C.", and a last clause "..., so C." — a decision.
void letter_sentences(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  static constexpr std::string_view kConnectives[] = {"so", "thus", "therefore", "hence", "then", "wait", "no",
                                                      "ok", "okay", "actually", "finally", "yes", "oh", "hmm",
                                                      "i.e", "ie", "answer", "final", "overall", "clearly"};
  auto try_clause = [&](std::size_t start, std::size_t end, bool after_comma) {
    std::size_t i = start;
    int connectives = 0;
    for (; connectives < 3; ++connectives) {
      while (i < end && (is_blank(s[i]) || s[i] == ',' || s[i] == '*' || s[i] == '#' || s[i] == '>')) ++i;
      std::string_view word = word_at(lower, i);
      if (has_at(lower, i, "i.e")) word = "i.e";
      if (word.empty() || !is_one_of(word, kConnectives)) break;
      i += word.size();
    }
    // "A. 2.5 eV is too low": a letter that opens a line of option-by-option analysis is no sentence of its
    // own; without a connective the letter must end its line.
    std::size_t line_end = std::min(s.find('\n', end), s.size());
    bool ends_line = s.substr(end, line_end - end).find_first_not_of(" \t\r.!?*_") == std::string_view::npos;
    if (after_comma) {  // "..., so C." but not "La respuesta es C, no B" or "If ..., then \\boxed{D}"
      std::string_view first = word_at(lower, lower.find_first_not_of(" ,*", start));
      bool concludes = first == "so" || first == "thus" || first == "therefore" || first == "hence" || has_at(lower, lower.find_first_not_of(" ,*", start), "i.e");
      if (connectives == 0 || !concludes || hypothetical(lower, sentence_start(lower, start), start)) return;
    }
    auto token = read_letter(s.substr(0, end), i, last, false);
    if (!token) return;
    std::size_t rest = token->end;
    while (rest < end && std::string_view(" \t.:)*_").find(s[rest]) != std::string_view::npos) ++rest;
    // Without a connective, a heading names the option it discusses: "#### Option C", "**Option B**",
    // "**D)**", "**Option D:**" after the answer are no answers; "C", "**C**", "(C)" and "C." are.
    std::size_t line_start = s.substr(0, start).rfind('\n');
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    std::size_t first = s.find_first_not_of(" \t", line_start);
    bool heading = first != std::string_view::npos && s[first] == '#';
    bool parenthesised = token->begin > 0 && s[token->begin - 1] == '(';
    bool labelled = token->begin + 1 < s.size() && (s[token->begin + 1] == ')' || s[token->begin + 1] == ':') && !parenthesised;
    if (connectives == 0 && (heading || token->named || labelled)) return;
    if (rest >= end && (connectives > 0 || ends_line) && (!names || token->marked || connectives > 0))
      out->push_back({start, token->letter, false, 2, "letter alone"});
  };
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = start;
    while (end < s.size() && s[end] != '\n' && s[end] != ';' &&
           !((s[end] == '.' || s[end] == '!' || s[end] == '?') && (end + 1 == s.size() || is_blank(s[end + 1]))) &&
           !has_at(s, end, "\xE3\x80\x82"))
      ++end;
    try_clause(start, end, false);
    std::size_t comma = s.substr(0, end).rfind(',');
    if (comma != std::string_view::npos && comma > start) try_clause(comma + 1, end, true);
    start = end + (has_at(s, end, "\xE3\x80\x82") ? 3 : 1);
  }
}

void prose_commitments(const Scan& scan) {
  noun_phrases(scan);
  pronoun_phrases(scan);
  named_option_predicates(scan);
  letter_first(scan);
  verbs(scan);
  foreign_phrases(scan);
  letter_sentences(scan);
}

// No commitment at all: a standalone letter that ends the text after a word that leads to an answer ("...
// which matches D.", "so D", "Answer D"), a line break or a colon; not after a noun ("vitamin C", "compound
// B"), a negation ("not A", "nicht B") or as one of two ("torn between B and C").
std::optional<char> final_letter(std::string_view s, std::string_view lower, char last, bool names_letters, std::string* why) {
  std::size_t end = s.size();
  while (end > 0 && (std::isspace(static_cast<unsigned char>(s[end - 1])) || std::string_view(".)*$}]'`\"").find(s[end - 1]) != std::string_view::npos))
    --end;
  *why = "no answer line, commitment or final letter";
  if (end == 0) return std::nullopt;
  auto token = read_letter(s, end - 1, last, false);
  if (!token || token->begin != end - 1) return std::nullopt;
  std::size_t before = end - 1;
  while (before > 0 && std::string_view(" \t(*`'\"$").find(s[before - 1]) != std::string_view::npos) --before;
  if (before >= 2 && s[before - 1] == '/' ) {
    *why = "hedge: the final letter is one of two";
    return std::nullopt;
  }
  static constexpr std::string_view kLeads[] = {"is", "be", "so", "thus", "therefore", "hence", "then", "answer",
                                                "option", "choice", "matches", "match", "to", "with", "i.e", "ie",
                                                "namely", "choose", "pick", "select", "letter", "was", "it's", "gives"};
  std::string_view word = word_before(lower, before);
  if (word == "or" || word == "and") {
    std::size_t k = end - 1;
    while (k > 0 && !is_alnum(s[k - 1])) --k;
    k -= std::min(k, word.size());
    while (k > 0 && std::string_view(" \t,)*").find(s[k - 1]) != std::string_view::npos) --k;
    if (k > 0 && read_letter(s, k - 1, last, false)) {
      *why = "hedge: the final letter is one of two";
      return std::nullopt;
    }
  }
  std::size_t sentence_at = sentence_start(lower, before);
  std::string_view sentence = lower.substr(sentence_at, before - sentence_at);
  for (std::string_view cue : {"let me", "let's", "check", "verify", "consider", "look at"})
    if (sentence.find(cue) != std::string_view::npos) {  // "Let me now double-check the arithmetic for option D"
      *why = "the final letter is still under consideration";
      return std::nullopt;
    }
  if (rejected_before(lower, before, false)) {  // "I would not choose B."
    *why = "the final letter is rejected";
    return std::nullopt;
  }
  bool after_break = before == 0 || s[before - 1] == '\n' || s[before - 1] == ':';
  if (!after_break && !is_one_of(word, kLeads)) return std::nullopt;
  if (names_letters && !token->named && word != "answer" && word != "option" && word != "choice") return std::nullopt;
  *why = "final letter";
  return token->letter;
}

struct Found {
  char letter;
  bool hedge;
};

// Text compared loosely: lower case, no markdown or math delimiters, spaces collapsed, no final period.
std::string loose(std::string_view text) {
  std::string out;
  for (char c : lowercase(text)) {
    if (c == '*' || c == '_' || c == '$' || c == '`') continue;
    if (is_blank(c) || c == '\n') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

// A statement that is an option's text, with or without its letter: "**Answer:** D∞h" is the option whose
// text is "D∞h", "Final Answer: D gives two singlets ..." the option with that text, not D.
std::optional<char> option_by_text(std::string_view content, const std::vector<std::string>* options) {
  if (!options || options->empty()) return std::nullopt;
  std::string said = loose(content);
  if (said.empty()) return std::nullopt;
  std::optional<char> found;
  for (std::size_t k = 0; k < options->size(); ++k) {
    std::string text = loose((*options)[k]);
    if (text.empty()) continue;
    if (said == text) {
      if (found) return std::nullopt;  // two options with the same text
      found = static_cast<char>('A' + k);
    }
  }
  return found;
}

// The letter a statement gives: the content of a box, a tag or a label line. Its leading letter ("C",
// "(C) 4.5 eV", "Option C — 4.5 eV"), unless that may be an article ("A 2:1 mixture") or a lower-case word;
// else its prose ("C is correct; option A overestimates ...", "Not (A); it's (C)"); else a letter ending it
// ("... (not option A), i.e. C"); else an option it names ("D-glucose (option B)", "4.5 eV (C)"); else an
// article-like "A".
std::optional<Found> statement_letter(std::string_view content, char last, bool names_letters,
                                      const std::vector<std::string>* options) {
  std::string lower = lowercase(content);
  if (auto by_text = option_by_text(content, options)) return Found{*by_text, false};
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
  std::vector<Commitment> prose;
  prose_commitments(Scan{content, lower, last, names_letters, &prose, options});
  if (!prose.empty()) {
    auto latest = std::max_element(prose.begin(), prose.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    return Found{latest->letter, latest->hedge};
  }
  std::string why;
  if (auto letter = final_letter(content, lower, last, names_letters, &why)) return Found{*letter, false};
  for (std::size_t i = 0; i < content.size(); ++i) {
    bool named = (has_at(lower, i, "option") || has_at(lower, i, "choice")) && word_starts_at(lower, i);
    if (!named && content[i] != '(') continue;
    auto token = read_letter(content, i, last, false);
    if (token && (named || token->begin == i + 1) && token->marked && !rejected_before(lower, i)) return Found{token->letter, false};
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

void add_statement(const Scan& scan, std::size_t at, std::string_view content, const char* how) {
  if (auto found = statement_letter(content, scan.last, scan.names_letters, scan.options))
    scan.out->push_back({at, found->letter, found->hedge, 2, how});
}

// "Answer: C" anywhere; at the start of a line also "Final choice: C", "Correct option: C", "Answer — C",
// "Conclusion: C".
void labels(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  for (std::size_t at = lower.find("answer"); at != std::string_view::npos; at = lower.find("answer", at + 1)) {
    if (!word_starts_at(lower, at)) continue;
    static constexpr std::string_view kOtherAnswers[] = {"wrong", "tempting", "trap", "incorrect", "naive", "alternative",
                                                         "distractor", "common", "other", "possible", "expected",
                                                         "intuitive", "initial"};
    if (is_one_of(word_before(lower, at), kOtherAnswers)) continue;  // "*Most tempting wrong answer:* B"
    std::size_t i = at + 6;
    while (i < s.size() && (is_blank(s[i]) || s[i] == '*' || s[i] == '_')) ++i;
    if (i < s.size() && s[i] == ':') add_statement(scan, at, label_content(s, i + 1), "answer line");
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
    for (std::string_view label : {"answer choice", "answer", "choice", "option", "conclusion"})
      if (has_at(lower, i, label) && (qualified || label == "answer" || label == "answer choice" || label == "conclusion")) {
        label_end = i + label.size();
        break;
      }
    if (label_end) {
      i = label_end;
      while (i < end && (is_blank(s[i]) || s[i] == '*' || s[i] == '_')) ++i;
      std::size_t dash = dash_at(s, i);
      bool colon = i < end && s[i] == ':';
      bool bare_answer_colon = colon && has_at(lower, label_end - 6, "answer");  // read by the loop above
      if ((dash || colon) && !bare_answer_colon) add_statement(scan, start, label_content(s, i + (colon ? 1 : dash)), "answer line");
    }
    start = end + 1;
  }
}

// Every \boxed{} / \fbox{}. A second box right after a first with another letter is a hedge; a later box in
// a conditional sentence ("(If the question meant the minimum, then \boxed{D}.)") is an aside.
void boxes(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
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
    std::optional<Found> found = statement_letter(s.substr(i + 1, close - i - 1), last, false, options);
    if (found) {
      bool joined = false;
      if (previous_end != std::string_view::npos) {
        std::string gap = lowercase(s.substr(previous_end, at - previous_end));
        for (std::string_view filler : {"and", "or", "\\(", "\\)", "\\quad"})
          for (std::size_t p = gap.find(filler); p != std::string::npos; p = gap.find(filler)) gap.erase(p, filler.size());
        joined = gap.find_first_not_of(" \t\n,;$") == std::string::npos;
      }
      bool aside = previous_end != std::string_view::npos && hypothetical(lower, sentence_start(lower, at), at);
      bool hedge = found->hedge || (joined && previous_letter != found->letter);
      if (!aside) out->push_back({at, found->letter, hedge, 2, "box"});
      previous_end = close + 1;
      previous_letter = found->letter;
    }
    at = close;
  }
}

void tags(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  for (std::size_t at = lower.find("<answer>"); at != std::string_view::npos; at = lower.find("<answer>", at + 1)) {
    std::size_t close = lower.find("</answer>", at);
    if (close == std::string_view::npos) continue;
    std::string_view content = s.substr(at + 8, close - at - 8);
    std::size_t first = content.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos) add_statement(scan, at, content.substr(first), "answer tag");
  }
}

// A bold line that opens with the letter and goes on with the option's text ("**C) 4.5 eV**"), unless it
// judges the option ("**Option A: Incorrect**", judged by letter_first).
void bold_lines(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  static constexpr std::string_view kJudgements[] = {"correct", "incorrect", "wrong", "right", "false", "true", "not",
                                                     "no", "yes", "eliminated", "ruled", "possible", "impossible"};
  for (std::size_t start = 0; start < s.size();) {
    std::size_t end = std::min(s.find('\n', start), s.size());
    std::string_view line = s.substr(start, end - start);
    std::size_t first = line.find_first_not_of(" \t\r");
    std::size_t final = line.find_last_not_of(" \t\r");
    if (first != std::string_view::npos && has_at(line, first, "**") && final >= first + 4 && has_at(line, final - 1, "**")) {
      std::string_view trimmed = line.substr(first, final + 1 - first);
      auto token = read_letter(trimmed, 0, last, false);
      if (token && token->begin + 1 < trimmed.size() && std::string_view(".):").find(trimmed[token->begin + 1]) != std::string_view::npos) {
        std::string low = lowercase(trimmed);
        std::size_t next = low.find_first_not_of(" \t.):*_-", token->begin + 1);
        if (next != std::string::npos && !is_one_of(word_at(low, next), kJudgements) && !check_mark_at(low, next))
          out->push_back({start + first, token->letter, false, 0, "bold line"});
      }
    }
    start = end + 1;
  }
}

// "C) 4.12 MeV, 29.8 MeV\n\nExplanation: ...", "C. cytosol to the extracellular space\n\n...": an answer
// that opens with the letter and its option's text, then explains; not a restatement of the options ("A)
// ...\nB) ..."), a heading, or a line of analysis ("A. 2.5 eV is too low" — see letter_sentences).
void first_line(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  std::size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || s[first] == '#') return;
  std::size_t end = std::min(s.find('\n', first), s.size());
  std::string_view line = s.substr(first, end - first);
  auto token = read_letter(line, 0, last, false);
  if (!token && !line.empty() && line[0] >= 'A' && line[0] <= last && line.size() > 2 && line[1] == '.')  // "C. cytosol"
    token = LetterToken{line[0], 0, 1, false, false};  // kept only if the rest is that option's text, below
  if (!token || token->named || token->begin + 2 >= line.size() || std::string_view(".):").find(line[token->begin + 1]) == std::string_view::npos)
    return;
  std::size_t next = s.find_first_not_of(" \t\r\n", end);
  if (next == std::string_view::npos) return;  // a single line is the last line's business
  if (auto following = read_letter(s.substr(next, std::min(s.find('\n', next), s.size()) - next), 0, last, false);
      following && following->begin <= 2)
    return;  // a list of options
  std::string_view text = line.substr(token->begin + 2);
  bool matches_option = options && options->size() > static_cast<std::size_t>(token->letter - 'A') &&
                        loose(text) == loose((*options)[token->letter - 'A']);
  std::string low = lowercase(text);
  static constexpr std::string_view kJudgements[] = {"correct", "incorrect", "wrong", "right", "false", "true", "not",
                                                     "no", "yes", "this", "it", "the"};
  std::size_t word = low.find_first_not_of(" \t*_");
  std::size_t text_start = text.find_first_not_of(' ');
  bool abbreviation = !token->marked && line[token->begin + 1] == '.' && text_start != std::string_view::npos &&
                      std::islower(static_cast<unsigned char>(text[text_start]));
  if (!matches_option && abbreviation)
    return;  // "D. melanogaster (option C)": an abbreviated name, unless it is the option's text
  if (!matches_option && (word == std::string::npos || is_one_of(word_at(low, word), kJudgements))) return;
  out->push_back({first, token->letter, false, 0, "first line"});
}

// Used only when nothing else commits: the last line, when it opens with the letter ("C. It cannot be B",
// "(C) because ...", "Option C: 4.5 eV", "C, not B") and does not reject it ("D) wrong").
std::optional<char> last_line_letter(const Scan& scan) {
  const auto& [s, lower, last, names, out, options] = scan;
  std::size_t last_line = std::string_view::npos;
  for (std::size_t start = 0; start < s.size();) {
    std::size_t end = std::min(s.find('\n', start), s.size());
    std::string_view line = s.substr(start, end - start);
    std::size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line.find_first_not_of(" \t\r-*=_", first) != std::string_view::npos)
      last_line = start + first;
    start = end + 1;
  }
  if (last_line == std::string_view::npos) return std::nullopt;
  std::string_view line = s.substr(last_line, std::min(s.find('\n', last_line), s.size()) - last_line);
  auto token = read_letter(line, 0, last, false);
  if (!token || token->begin + 1 >= line.size() || (names && !token->marked)) return std::nullopt;
  std::size_t after = token->begin + 1;
  std::size_t spaced = line.find_first_not_of(" \t", after);
  bool punctuated = std::string_view(".):,").find(line[after]) != std::string_view::npos ||
                    (spaced != std::string_view::npos && dash_at(line, spaced)) || (token->marked && !token->named && is_blank(line[after]));
  std::string low = lowercase(line);
  // A completion cut off mid-sentence ("D) 10^-4 eV: ... before concluding I should double-check whether the
  // question wants the sum of the two wid") has not answered.
  std::size_t tail = s.find_last_not_of(" \t\r\n");
  bool finished = std::string_view(".!?)*$}]`\"'").find(s[tail]) != std::string_view::npos || line.size() <= 80;
  for (std::string_view cue : {"let me", "let's", "double-check", "double check", "before concluding", "verify"})
    finished = finished && low.find(cue) == std::string::npos;
  if (!finished) return std::nullopt;
  static constexpr std::string_view kRejections[] = {"wrong", "incorrect", "false", "not", "no", "unlikely",
                                                     "eliminated", "ruled", "impossible", "invalid", "this", "fails"};
  std::size_t next = low.find_first_not_of(" \t.):,-*_", token->end);
  bool contrast = next != std::string::npos && has_at(low, next, "not ") && read_letter(line, next + 4, last, false);
  bool rejected = next != std::string::npos && (is_one_of(word_at(low, next), kRejections) || check_mark_at(low, next) < 0) && !contrast;
  if (!punctuated || rejected || continuation(line, low, token->end, last) == Continuation::list_or) return std::nullopt;
  return token->letter;
}

// A correction that opens a sentence between an explicit answer and later prose: "Wait", "Actually",
// "No,", "Hmm", "On second thought", "I made a mistake".
bool correction_between(std::string_view s, std::string_view lower, std::size_t from, std::size_t to) {
  static constexpr std::string_view kCues[] = {"wait", "actually", "correction", "hmm", "oops", "no,", "no.",
                                               "no \xE2\x80\x94", "no -", "no wait", "on second thought",
                                               "i made a mistake", "i made an error", "my mistake", "let me reconsider",
                                               "reconsidering", "rechecking", "recomputing", "re-examining",
                                               "hold on", "scratch that", "sorry"};
  for (std::size_t at = from; at < to;) {
    std::size_t next = to;
    for (std::size_t i = at + 1; i < to; ++i) {
      if (s[i] == '\n' || ((s[i - 1] == '.' || s[i - 1] == '!' || s[i - 1] == '?') && is_blank(s[i]))) {
        next = i;
        break;
      }
    }
    std::size_t i = next;
    while (i < to && (is_blank(s[i]) || s[i] == '\n' || s[i] == '*' || s[i] == '(' || s[i] == '"')) ++i;
    for (std::string_view opener : {"but ", "and ", "so "})
      if (has_at(lower, i, opener)) i += opener.size();
    for (std::string_view cue : kCues)
      if (i < to && has_at(lower, i, cue)) return true;
    at = next;
  }
  return false;
}

// The question names things with the option letters: "compound A", "product B", "A = ...", "A + B".
bool question_names_letters(std::string_view question, char last) {
  std::string lower = lowercase(question);
  static constexpr std::string_view kNouns[] = {
      "compound", "compounds", "product", "products", "reagent", "reagents", "reactant", "reactants", "material",
      "molecule", "species", "substance", "intermediate", "structure", "solution", "gene", "protein", "sample",
      "mixture", "particle", "state", "point", "star", "planet", "cell", "strain", "enzyme", "isomer", "salt",
      "acid", "base", "complex", "ion", "element", "metal", "system", "tube", "flask", "vessel", "box", "region",
      "salts", "gas", "gases", "solid", "liquid", "flavor", "flavors", "flavour", "beam", "source", "object", "body",
      "field", "wave", "signal", "population", "plant", "virus", "drug", "mutant", "allele", "line", "receptor",
      "releases", "forms", "form", "gives", "produces", "yields", "called", "denoted", "named", "labeled",
      "labelled", "magnitude", "power", "factor", "quantity", "constant", "parameter", "variable"};
  for (std::size_t p = 0; p < question.size(); ++p) {
    char c = question[p];
    if (c < 'A' || c > last || (p > 0 && is_alnum(question[p - 1])) || (p + 1 < question.size() && is_alnum(question[p + 1])))
      continue;
    // Bonds and formulas ("C-C = 200 kJ/mol", "(CH3)2C=CH-") name atoms, not things.
    bool bonded = (p > 0 && (question[p - 1] == '-' || question[p - 1] == '=')) ||
                  (p + 1 < question.size() && question[p + 1] == '-') ||
                  (p + 2 < question.size() && question[p + 1] == '=' && std::isupper(static_cast<unsigned char>(question[p + 2])));
    if (bonded) continue;
    std::size_t after = question.find_first_not_of(' ', p + 1);
    if (after != std::string_view::npos && (question[after] == '=' || question[after] == '+')) return true;
    std::size_t before = question.find_last_not_of(' ', p == 0 ? 0 : p - 1);
    if (p > 0 && before != std::string_view::npos && (question[before] == '+' || question[before] == '>')) return true;
    if (is_one_of(word_before(lower, p), kNouns)) return true;
    if (p > 0 && question[p - 1] == '(' && p + 1 < question.size() && question[p + 1] == ')') return true;  // "... (A)"
  }
  return false;
}

}  // namespace

ChoiceExtraction extract_choice(std::string_view region, char last_letter, std::string_view question) {
  std::string lower = lowercase(region);
  bool names_letters = !question.empty() && question_names_letters(question, last_letter);
  // The options' texts are the question's last lines, A first (a leading "A) " is dropped).
  std::vector<std::string> options;
  std::size_t count = static_cast<std::size_t>(last_letter - 'A' + 1);
  for (std::size_t end = question.size(); options.size() < count && end > 0;) {
    std::size_t start = question.rfind('\n', end - 1);
    start = start == std::string_view::npos ? 0 : start + 1;
    std::string_view line = question.substr(start, end - start);
    if (line.size() > 3 && line[1] == ')' && line[2] == ' ' && line[0] == static_cast<char>('A' + count - 1 - options.size()))
      line.remove_prefix(3);
    options.insert(options.begin(), std::string(line));
    if (start == 0) break;
    end = start - 1;
  }
  if (options.size() < count) options.clear();
  std::vector<Commitment> found;
  Scan scan{region, lower, last_letter, names_letters, &found, &options};
  first_line(scan);
  boxes(scan);
  tags(scan);
  labels(scan);
  bold_lines(scan);
  prose_commitments(scan);
  if (found.empty()) {
    if (auto letter = last_line_letter(scan)) return {*letter, "last line"};
    std::string why;
    std::optional<char> letter = final_letter(region, lower, last_letter, names_letters, &why);
    return {letter, why};
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  int top_tier = 0;
  for (const Commitment& c : found) top_tier = std::max(top_tier, c.tier);
  const Commitment* chosen = nullptr;
  for (const Commitment& c : found)
    if (c.tier == top_tier) chosen = &c;
  // After it: a hedge is settled by any later commitment ("The answer is B or C, and I'll go with C"); an
  // answer is replaced only after a correction ("Answer: B\nWait, no — it's C").
  const Commitment* anchor = chosen;
  for (const Commitment& c : found) {
    if (c.at <= anchor->at) continue;
    if (anchor->hedge || (!c.tentative && correction_between(region, lower, anchor->at, c.at))) chosen = &c;
  }
  if (chosen->hedge) return {std::nullopt, std::string("hedge: more than one letter (") + chosen->how + ")"};
  return {chosen->letter, chosen->how};
}

}  // namespace r1lab::grading
