#include "tasks/grading/latex_normalize.h"

#include "tasks/text_trim.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace r1lab::grading {

using tasks::trim;

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// Replace a command only when it is not the prefix of a longer command (\left vs \leftarrow).
void replace_command(std::string& s, std::string_view command, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(command, pos)) != std::string::npos) {
    std::size_t after = pos + command.size();
    if (after < s.size() && std::isalpha(static_cast<unsigned char>(s[after]))) {
      pos = after;
      continue;
    }
    s.replace(pos, command.size(), to);
    pos += to.size();
  }
}

bool is_unit_word(std::string_view word) {
  static constexpr std::array<std::string_view, 52> kUnits = {
      "cm", "m", "mm", "km", "in", "inch", "inches", "ft", "feet", "foot", "yd", "yard", "yards", "mile", "miles",
      "meter", "meters", "metre", "metres", "centimeter", "centimeters", "unit", "units", "sq", "square",
      "cubic", "degree", "degrees", "dollar", "dollars", "cent", "cents", "hour", "hours", "minute", "minutes",
      "second", "seconds", "day", "days", "week", "weeks", "year", "years", "mph", "kg", "g", "pounds", "lb",
      "people", "students", "ways"};
  std::string lower;
  for (char c : word) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!lower.empty() && (lower.back() == '.' || lower.back() == '^' || std::isdigit(static_cast<unsigned char>(lower.back()))))
    lower.pop_back();
  return std::find(kUnits.begin(), kUnits.end(), lower) != kUnits.end();
}

// Rewrites \text{...}-like wrappers: a wrapper holding only unit words after some math is dropped; any
// other wrapper is unwrapped to its contents (marked \text{} again when the whole answer is words).
std::string rewrite_text_wrappers(const std::string& s) {
  static constexpr std::array<std::string_view, 10> kWrappers = {
      "\\text", "\\textbf", "\\textit", "\\textrm", "\\mathrm", "\\mathbf", "\\mbox", "\\textnormal",
      "\\operatorname", "\\mathit"};
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    bool matched = false;
    if (s[i] == '\\') {
      for (auto wrapper : kWrappers) {
        if (s.compare(i, wrapper.size(), wrapper) != 0) continue;
        std::size_t j = i + wrapper.size();
        if (j >= s.size() || s[j] != '{') continue;
        int depth = 0;
        std::size_t k = j;
        for (; k < s.size(); ++k) {
          if (s[k] == '{') ++depth;
          if (s[k] == '}' && --depth == 0) break;
        }
        if (k >= s.size()) continue;
        std::string inner = trim(std::string_view(s).substr(j + 1, k - j - 1));
        bool all_units = !inner.empty();
        std::size_t w = 0;
        while (w < inner.size()) {
          while (w < inner.size() && inner[w] == ' ') ++w;
          std::size_t e = inner.find(' ', w);
          if (e == std::string::npos) e = inner.size();
          if (e > w && !is_unit_word(std::string_view(inner).substr(w, e - w))) all_units = false;
          w = e;
        }
        bool after_math = !trim(out).empty();
        // Words after a value ("12 \\text{ grade}", "5 \\text{ apples}") are a unit or a noun, not the answer.
        bool only_words = !inner.empty() && std::all_of(inner.begin(), inner.end(), [](char ch) {
          return std::isalpha(static_cast<unsigned char>(ch)) || ch == ' ' || ch == '.';
        });
        bool last_is_number = after_math && std::isdigit(static_cast<unsigned char>(trim(out).back()));
        if ((all_units && after_math) || (only_words && last_is_number && inner != "and" && inner != "or")) {
          i = k + 1;
          for (std::string_view power : {"^2", "^3", "^{2}", "^{3}"})
            if (s.compare(i, power.size(), power) == 0) i += power.size();
          matched = true;
          break;
        }
        if (!(all_units && after_math)) out += (wrapper == "\\text" || wrapper == "\\textbf" || wrapper == "\\mbox" ||
                                                 wrapper == "\\textrm" || wrapper == "\\textnormal" || wrapper == "\\textit")
                                                    ? "\\text{" + inner + "}"
                                                    : inner;
        i = k + 1;
        matched = true;
        break;
      }
    }
    if (!matched) out += s[i++];
  }
  return out;
}

// A whole answer like 1,000,000 or -12,345.5: drop the separators.
std::string drop_thousands_separators(const std::string& s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t digits = 0;
  while (i + digits < s.size() && std::isdigit(static_cast<unsigned char>(s[i + digits]))) ++digits;
  if (digits == 0 || digits > 3) return s;
  std::size_t j = i + digits;
  bool any_group = false;
  while (j < s.size() && s[j] == ',') {
    std::size_t g = j + 1;
    std::size_t n = 0;
    while (g + n < s.size() && std::isdigit(static_cast<unsigned char>(s[g + n]))) ++n;
    if (n != 3) return s;
    any_group = true;
    j = g + 3;
  }
  if (!any_group) return s;
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
  }
  if (j != s.size()) return s;
  std::string out;
  for (char c : s)
    if (c != ',') out += c;
  return out;
}

// Words a bare answer may end with that are math, not a unit or a noun ("3 pi", "2 sqrt 3").
bool is_math_word(std::string_view word) {
  for (std::string_view math : {"pi", "sqrt", "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "and", "or",
                                "infty", "inf", "mod"})
    if (word == math) return true;
  return false;
}

// "42 meters", "15 percent", "27 square feet": a number followed only by plain words (two letters or
// more, none of them math) is the number. Letters alone ("2 x") stay a product. Returns whether the
// words were "percent".
bool drop_words_after_number(std::string& s, bool& percent) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  std::size_t digits = i;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == ',')) ++i;
  if (i == digits || i >= s.size() || s[i] != ' ') return false;
  std::size_t number_end = i;
  std::vector<std::string> words;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t start = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    if (i - start < 2 || (i < s.size() && s[i] != ' ')) return false;
    std::string word;
    for (std::size_t k = start; k < i; ++k) word += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
    if (is_math_word(word)) return false;
    words.push_back(word);
  }
  if (words.empty()) return false;
  percent = words.size() == 1 && words[0] == "percent";
  s.resize(number_end);
  return true;
}

// "three boxes contain neither pens nor pencils", "Twenty-one": an answer that starts with a number
// written in words (zero to ninety-nine) starts with that number; drop_words_after_number then drops
// the words after it. Only at the start and as a whole word, so no word inside an answer changes.
void read_leading_number_word(std::string& s) {
  static const char* const units[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                                      "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
                                      "eighteen", "nineteen"};
  static const char* const tens[] = {"twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
  std::size_t end = 0;
  while (end < s.size() && (std::isalpha(static_cast<unsigned char>(s[end])) || s[end] == '-')) ++end;
  if (end == 0 || (end < s.size() && s[end] != ' ')) return;
  std::string word;
  for (std::size_t k = 0; k < end; ++k) word += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
  auto value_of = [&](std::string_view w) -> int {
    for (int i = 0; i < 20; ++i) if (w == units[i]) return i;
    for (int i = 0; i < 8; ++i) if (w == tens[i]) return 20 + 10 * i;
    return -1;
  };
  int value = -1;
  if (auto dash = word.find('-'); dash != std::string::npos) {
    int ten = value_of(std::string_view(word).substr(0, dash)), unit = value_of(std::string_view(word).substr(dash + 1));
    if (ten >= 20 && ten % 10 == 0 && unit >= 1 && unit <= 9) value = ten + unit;
  } else {
    value = value_of(word);
  }
  if (value >= 0) s = std::to_string(value) + s.substr(end);
}

// "1{,}000", and "14 {, }916" as models copy it: a braced comma after a digit separates thousands. After a
// command it is an argument (`1\text{, }2` is a list).
void drop_braced_thousands_commas(std::string& s) {
  for (std::string_view comma : {"{,}", "{, }"}) {
    for (std::size_t at = s.find(comma); at != std::string::npos; at = s.find(comma, at)) {
      std::size_t before = at == 0 ? std::string::npos : s.find_last_not_of(' ', at - 1);
      if (before != std::string::npos && std::isdigit(static_cast<unsigned char>(s[before])))
        s.erase(at, comma.size());
      else
        at += comma.size();
    }
  }
}

// The run of letters that starts at `at`: the name of a command after its backslash ("frac" in
// "\\frac{1}{2}"); empty when no letter is there.
std::string_view letters_at(const std::string& s, std::size_t at) {
  if (at >= s.size()) return {};
  std::size_t end = at;
  while (end < s.size() && std::isalpha(static_cast<unsigned char>(s[end]))) ++end;
  return std::string_view(s).substr(at, end - at);
}

// A wide space (\quad, \qquad) between two answers separates them: "3 \quad 4" is the list 3, 4 and
// "x = 2 \quad y = 3" the pair, not the number 34 that two numbers side by side make. That holds when a
// value ends before it (a digit, a letter, a closing bracket) and a value or a named value starts after it
// (a digit, a minus sign before a digit, \frac, \sqrt, a name and "="). Anything else is a space: "5 \quad
// \text{cm}" keeps its unit, ",\quad" after a comma adds nothing, "\quadx_{2}" (a reference stripped of
// its spaces: no command starts with \quad) is a space and x_2.
void wide_spaces_to_separators(std::string& s) {
  for (std::string_view wide : {"\\qquad", "\\quad"}) {
    for (std::size_t at = s.find(wide); at != std::string::npos; at = s.find(wide, at)) {
      std::size_t before = at == 0 ? std::string::npos : s.find_last_not_of(' ', at - 1);
      std::size_t after = s.find_first_not_of(' ', at + wide.size());
      auto is_at = [&](std::size_t pos, auto predicate) {
        return pos != std::string::npos && pos < s.size() && predicate(static_cast<unsigned char>(s[pos]));
      };
      auto is_digit = [](unsigned char c) { return std::isdigit(c) != 0; };
      bool value_before = is_at(before, [](unsigned char c) {
        return std::isalnum(c) || c == '}' || c == ')' || c == ']';
      });
      bool value_after = is_at(after, is_digit) ||
                         (is_at(after, [](unsigned char c) { return c == '-'; }) && is_at(after + 1, is_digit));
      if (!value_after && is_at(after, [](unsigned char c) { return c == '\\'; })) {
        std::string_view name = letters_at(s, after + 1);
        value_after = name == "frac" || name == "dfrac" || name == "tfrac" || name == "sqrt";
      }
      if (!value_after && is_at(after, [](unsigned char c) { return std::isalpha(c) != 0; })) {
        std::size_t end = after + 1;
        if (end < s.size() && s[end] == '_') {  // x_2, x_{10}
          end = s[end + 1] == '{' ? s.find('}', end) : end + 1;
          end = end == std::string::npos ? s.size() : end + 1;
        }
        std::size_t sign = s.find_first_not_of(' ', end);
        value_after = sign != std::string::npos && s[sign] == '=';
      }
      if (value_before && value_after) {
        s.replace(before + 1, at + wide.size() - before - 1, ", ");  // "3 \\quad 4" is "3, 4"
        at = before + 3;
      } else {
        s.replace(at, wide.size(), " ");
        at += 1;
      }
    }
  }
}

// Commands answers are written with: a backslash pair before one of them is a doubled escape, not a line
// break before letters.
bool is_common_command(std::string_view name) {
  static constexpr std::string_view kCommands[] = {
      "frac", "dfrac", "tfrac", "sqrt", "left", "right", "pi", "cdot", "times", "div", "pm", "mp", "le", "leq",
      "ge", "geq", "ne", "neq", "lt", "gt", "approx", "infty", "text", "textbf", "mbox", "mathrm", "mathbf",
      "mathbb", "operatorname", "boxed", "circ", "degree", "cup", "cap", "in", "emptyset", "varnothing",
      "theta", "alpha", "beta", "gamma", "phi", "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos",
      "arctan", "log", "ln", "exp", "binom", "dbinom", "begin", "end", "angle", "triangle", "overline", "vec",
      "sum", "prod", "cdots", "ldots", "dots", "quad", "qquad", "gcd", "lcm", "pmod"};
  return std::find(std::begin(kCommands), std::end(kCommands), name) != std::end(kCommands);
}

// "4, 9, \text{and} 16", "-1; 6", "(2,3) or (3,2)": list separators written as words or semicolons
// become commas (a bare list compares as a set). Words inside a \text{} answer are left alone, but a word
// squeezed between two tuples ("(11,7)or(7,11)", as answers stripped of spaces have it) is a separator.
void unify_list_separators(std::string& s) {
  for (std::string_view word : {"\\text{and}", "\\text{or}", ")or(", ")and("}) {
    bool between_tuples = word.front() == ')';
    replace_all(s, word, between_tuples ? "),(" : ",");
  }
  if (s.find("\\text{") == std::string::npos)
    for (std::string_view word : {" and ", " or "}) replace_all(s, word, ", ");
  replace_all(s, ";", ",");
  // Outside a matrix, a line break separates answers: "x = 1 \\\\ y = 2", "x=1\\\\y=2". Not before a command
  // name: "\\\\mbox{four}" is a doubled escape that was left as it is.
  if (s.find("\\begin") == std::string::npos) {
    for (std::size_t pos = s.find("\\\\"); pos != std::string::npos; pos = s.find("\\\\", pos)) {
      std::size_t end = pos;
      while (end < s.size() && s[end] == '\\') ++end;
      std::string_view name = letters_at(s, end);
      if (end - pos == 2 && (name.empty() || !is_common_command(name))) {
        s.replace(pos, 2, ", ");
        pos += 2;
      } else {
        pos = end;
      }
    }
  }
  // Collapse the doubled commas this leaves ("9, , 16").
  std::string out;
  for (char c : s) {
    if (c == ',') {
      std::size_t k = out.size();
      while (k > 0 && out[k - 1] == ' ') --k;
      if (k > 0 && out[k - 1] == ',') {
        out.resize(k);
        continue;
      }
    }
    out += c;
  }
  s = out;
}

// Whether the answer holds an inequality sign (<, >, \\le, \\ge, \\lt, \\gt).
bool has_inequality(const std::string& s) {
  if (s.find_first_of("<>") != std::string::npos) return true;
  for (std::string_view command : {"\\le", "\\ge", "\\lt", "\\gt"})
    for (std::size_t at = s.find(command); at != std::string::npos; at = s.find(command, at + 1)) {
      std::size_t after = at + command.size();
      if (after >= s.size() || !std::isalpha(static_cast<unsigned char>(s[after]))) return true;
    }
  return false;
}

// "x < -1 \\text{ or } x > 3": between inequalities "or" joins two sets (a union), it does not separate
// two answers, so it becomes \\cup. ("and" between inequalities is left a list: an intersection is not
// read.)
void join_inequalities_with_or(std::string& s) {
  if (!has_inequality(s)) return;
  for (std::string_view word : {"\\text{or}", " or "}) replace_all(s, word, " \\cup ");
  for (std::string_view command : {"\\lor", "\\vee"}) replace_command(s, command, " \\cup ");
}

// "3 \\pmod{7}", "3 \\pmod 7", "3 (\\bmod 7)", "3 \\mod 7" at the end: the residue is the answer.
void drop_trailing_modulus(std::string& s) {
  for (std::string_view command : {"\\pmod", "(\\bmod", "(\\mod", "\\bmod", "\\mod"}) {
    std::size_t at = s.rfind(command);
    if (at == std::string::npos || at == 0) continue;
    std::string head = trim(std::string_view(s).substr(0, at));
    if (head.empty()) continue;
    std::string_view rest = std::string_view(s).substr(at + command.size());
    // What follows must be the modulus alone: {n}, n, or n) for the parenthesised forms.
    std::string tail = trim(rest);
    if (!tail.empty() && tail.front() == '{' && tail.back() == '}') tail = tail.substr(1, tail.size() - 2);
    if (command.front() == '(' && !tail.empty() && tail.back() == ')') tail.pop_back();
    tail = trim(tail);
    if (tail.empty() || !std::all_of(tail.begin(), tail.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }))
      continue;
    s = head;
    return;
  }
}

// "\\sin 45^\\circ", "\\cos(30^{\\circ})": a trigonometric function of a number of degrees is rewritten
// in radians, "\\sin(\\frac{45\\pi}{180})", before degree marks are dropped elsewhere (an answer "45^\\circ"
// is the number 45).
void trig_degrees_to_radians(std::string& s) {
  for (std::string_view function : {"\\sin", "\\cos", "\\tan", "\\cot", "\\sec", "\\csc"}) {
    for (std::size_t at = s.find(function); at != std::string::npos; at = s.find(function, at + 1)) {
      std::size_t i = at + function.size();
      if (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) continue;   // \\sinh
      while (i < s.size() && s[i] == ' ') ++i;
      bool parenthesised = i < s.size() && s[i] == '(';
      if (parenthesised) ++i;
      std::size_t number = i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      if (i == number) continue;
      std::string digits = s.substr(number, i - number);
      std::size_t mark_end = std::string::npos;
      for (std::string_view degree : {"^{\\circ}", "^\\circ", "°", "\\degree"})
        if (s.compare(i, degree.size(), degree) == 0) mark_end = i + degree.size();
      if (mark_end == std::string::npos) continue;
      if (parenthesised) {
        while (mark_end < s.size() && s[mark_end] == ' ') ++mark_end;
        if (mark_end >= s.size() || s[mark_end] != ')') continue;
        ++mark_end;
      }
      std::string replacement = std::string(function) + "(\\frac{" + digits + "\\pi}{180})";
      s.replace(at, mark_end - at, replacement);
    }
  }
}

// An answer escaped twice ("\\\\left( 3, \\\\frac{\\\\pi}{2} \\\\right)", "10,\\\\!080", from JSON encoded again):
// every backslash comes doubled, every pair before a letter opens a common command, and at least one pair
// opens a command (a word or \\$ \\% \\! \\{ \\}); a pair before anything else but \\, \\; \\: is a row break
// written once. Halving every run restores it (a row break was then written as four). An answer with a lone
// backslash is escaped once, and "x=1\\\\y=2" is a row break before y: both stay as they are.
void undo_double_escaping(std::string& s) {
  bool opens_command = false;
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      ++i;
      continue;
    }
    std::size_t run = 0;
    while (i + run < s.size() && s[i + run] == '\\') ++run;
    if (run % 2 != 0) return;
    std::string_view name = letters_at(s, i + run);
    std::size_t name_end = i + run + name.size();
    if (!name.empty()) {
      if (run != 2 || !is_common_command(name)) return;
      opens_command = true;
    } else if (run == 2 && name_end < s.size() && std::string_view("$%!{}").find(s[name_end]) != std::string_view::npos) {
      opens_command = true;
    } else if (run == 2 && (name_end == s.size() || std::string_view(",;:").find(s[name_end]) == std::string_view::npos)) {
      return;  // a row break written once ("1 \\\\ 2"): the answer is not escaped twice throughout
    }
    i = name_end;
  }
  if (!opens_command) return;
  std::string halved;
  for (std::size_t i = 0; i < s.size(); ++i) {
    halved += s[i];
    if (s[i] == '\\') ++i;  // the pair's second backslash
  }
  s = std::move(halved);
}

// An ellipsis after a list is no sentence punctuation: "1, 2, 3, ..." and "1, 2, 3..." go on and are not
// the list 1, 2, 3. After a lone number it is ("3.14159..." is the number written).
bool ends_in_ellipsis(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "...") == 0 && s.find(',') != std::string::npos;
}

}  // namespace

NormalizedAnswer normalize_latex(std::string_view answer) {
  NormalizedAnswer result;
  std::string s = trim(answer);
  undo_double_escaping(s);
  while (!s.empty() && s.back() == '.' && !ends_in_ellipsis(s)) s = trim(std::string_view(s).substr(0, s.size() - 1));  // "$x$."
  // Math delimiters around the whole answer.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto [open, close] : std::array<std::pair<std::string_view, std::string_view>, 4>{
             {{"$$", "$$"}, {"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}}}) {
      if (s.size() >= open.size() + close.size() && s.compare(0, open.size(), open) == 0 &&
          s.compare(s.size() - close.size(), close.size(), close) == 0) {
        s = trim(std::string_view(s).substr(open.size(), s.size() - open.size() - close.size()));
        changed = true;
      }
    }
  }
  // A trailing line break ("5 \\\\") or a stray backslash at the end.
  while (!s.empty() && s.back() == '\\') s = trim(std::string_view(s).substr(0, s.size() - 1));
  // ASCII relations: "x != 3", "x <= 3" ("3!=6" is a factorial and stays).
  for (std::size_t pos = s.find("!="); pos != std::string::npos; pos = s.find("!=", pos + 1))
    if (pos == 0 || !std::isdigit(static_cast<unsigned char>(s[pos - 1]))) s.replace(pos, 2, " \\ne ");
  replace_all(s, "<=", " \\le ");
  replace_all(s, ">=", " \\ge ");
  replace_all(s, "\\left.", "");
  replace_all(s, "\\right.", "");
  for (std::string_view sizing : {"\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr",
                                  "\\big", "\\Big", "\\bigg", "\\Bigg", "\\displaystyle", "\\textstyle", "\\limits"})
    replace_command(s, sizing, "");
  replace_command(s, "\\dfrac", "\\frac");
  replace_command(s, "\\tfrac", "\\frac");
  replace_command(s, "\\cfrac", "\\frac");
  replace_command(s, "\\dbinom", "\\binom");
  replace_command(s, "\\tbinom", "\\binom");
  replace_command(s, "\\lvert", "|");
  replace_command(s, "\\rvert", "|");
  replace_command(s, "\\vert", "|");
  replace_command(s, "\\lbrace", "\\{");
  replace_command(s, "\\rbrace", "\\}");
  replace_command(s, "\\leq", "\\le");
  replace_command(s, "\\geq", "\\ge");
  replace_command(s, "\\leqslant", "\\le");
  replace_command(s, "\\geqslant", "\\ge");
  replace_command(s, "\\neq", "\\ne");
  replace_command(s, "\\varnothing", "\\emptyset");
  replace_command(s, "\\colon", ":");  // 5 \colon 12 is the ratio 5:12
  replace_command(s, "\\mathbf", "\\mathrm");
  // Spacing. A negative thin space sits inside numbers ("10,\\!080"), so it disappears without a trace.
  replace_all(s, ",\\! ", ",");
  replace_all(s, "\\!", "");
  // "\\ " is a space, but in "a \\\\ b" the backslash pair is a matrix row break: leave that alone.
  for (std::string_view space : {"\\,", "\\;", "\\:", "\\ ", "\\>"}) {
    for (std::size_t pos = s.find(space); pos != std::string::npos; pos = s.find(space, pos + 1)) {
      std::size_t run = 0;  // backslashes ending at pos (inclusive)
      while (run <= pos && s[pos - run] == '\\') ++run;
      if (run % 2 == 0) continue;
      s.replace(pos, space.size(), " ");
    }
  }
  wide_spaces_to_separators(s);
  replace_all(s, "~", " ");
  drop_braced_thousands_commas(s);
  trig_degrees_to_radians(s);
  // Degrees.
  for (std::string_view degree : {"^{\\circ}", "^\\circ", "^{\\circ }", "\\degree", "°"}) {
    if (s.find(degree) != std::string::npos) {
      result.had_degrees = true;
      replace_all(s, degree, "");
    }
  }
  // Currency and percent.
  replace_all(s, "\\$", "");
  if (s.find('%') != std::string::npos) {
    result.had_percent = true;
    replace_all(s, "\\%", "");
    replace_all(s, "%", "");
  }
  // Ordinal suffixes: 12^{\\text{th}}, 3^{rd}.
  for (std::string_view ordinal : {"^{\\text{th}}", "^{\\mathrm{th}}", "^\\text{th}", "^{th}", "^{st}", "^{nd}", "^{rd}",
                                   "^{\\text{st}}", "^{\\text{nd}}", "^{\\text{rd}}"})
    replace_all(s, ordinal, "");
  // Named functions written as text: \\operatorname{lcm}(4, 6), \\text{gcd}(8, 12).
  for (std::string_view wrapper : {"\\operatorname{", "\\text{", "\\mathrm{"})
    for (std::string_view name : {"gcd", "lcm"})
      replace_all(s, std::string(wrapper) + std::string(name) + "}", "\\" + std::string(name) + " ");
  s = rewrite_text_wrappers(s);
  drop_trailing_modulus(s);
  // "x \\in [2, 5)": the set is the answer.
  if (s.size() > 4 && std::isalpha(static_cast<unsigned char>(s[0]))) {
    std::size_t in = s.find("\\in ");
    if (in == std::string::npos) in = s.find("\\in[");
    if (in == std::string::npos) in = s.find("\\in(");
    if (in != std::string::npos && trim(std::string_view(s).substr(1, in - 1)).empty()) s = s.substr(in + 3);
  }
  replace_all(s, "\\text{}", "");
  // "\\frac{\\sqrt2}{2} \\approx 0.707": the exact value is the answer. "x \\approx 600" names a variable
  // instead, and reads as the assignment x = 600 (the parser takes \\approx as "=").
  if (std::size_t at = s.find("\\approx"); at != std::string::npos &&
      (at + 7 >= s.size() || !std::isalpha(static_cast<unsigned char>(s[at + 7])))) {
    std::string left = trim(std::string_view(s).substr(0, at));
    bool names_a_variable = left.size() == 1 && std::isalpha(static_cast<unsigned char>(left[0]));
    if (!left.empty() && !names_a_variable) s = left;
  }
  join_inequalities_with_or(s);
  unify_list_separators(s);
  s = trim(s);
  // Trailing sentence punctuation ("\frac{1}{3}.", "5;", "7,": lists separate items, they do not end in a
  // comma) and a leading "=".
  while (!s.empty() && (s.back() == '.' || s.back() == ';' || s.back() == ',') && !ends_in_ellipsis(s)) {
    s.pop_back();
    while (!s.empty() && s.back() == '\\') s.pop_back();   // "5\," was a thin space, "5\\," a line break
    s = trim(s);
  }
  if (!s.empty() && s.front() == '=') s = trim(std::string_view(s).substr(1));
  bool percent_word = false;
  read_leading_number_word(s);
  if (drop_words_after_number(s, percent_word) && percent_word) result.had_percent = true;
  s = drop_thousands_separators(s);
  // Collapse runs of spaces.
  std::string collapsed;
  for (char c : s) {
    if (c == ' ' && !collapsed.empty() && collapsed.back() == ' ') continue;
    collapsed += c;
  }
  result.text = trim(collapsed);
  return result;
}

std::string normalize_text_answer(std::string_view text) {
  std::string out;
  std::string s(text);
  replace_all(s, "\\text{", "");
  auto digit = [&](std::size_t k) { return k < s.size() && std::isdigit(static_cast<unsigned char>(s[k])); };
  std::size_t gap_start = 0;  // where the run of other characters before s[i] began
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!std::isalnum(static_cast<unsigned char>(s[i]))) continue;
    // Numbers on both sides of a gap stay apart: "1, 2" is not "12" and "3.5" not "35"; a thousands comma
    // ("1,000") joins them.
    if (i > gap_start && !out.empty() && std::isdigit(static_cast<unsigned char>(out.back())) && digit(i)) {
      std::string_view gap(s.data() + gap_start, i - gap_start);
      bool thousands = gap == "," && digit(i + 1) && digit(i + 2) && !digit(i + 3);
      if (!thousands) out += gap == "." ? "." : " ";
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
    gap_start = i + 1;
  }
  return out;
}

}  // namespace r1lab::grading
