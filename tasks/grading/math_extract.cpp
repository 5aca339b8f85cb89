#include "tasks/grading/math_extract.h"

#include "tasks/text_trim.h"

#include <algorithm>
#include <cctype>

namespace r1lab::grading {

using tasks::trim;

namespace {

struct BoxSpan {
  std::size_t begin;  // position of the backslash
  std::size_t end;    // one past the closing brace
  std::string content;
};

std::vector<BoxSpan> find_box_spans(std::string_view text) {
  std::vector<BoxSpan> spans;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t boxed = text.find("\\boxed", pos);
    std::size_t fbox = text.find("\\fbox", pos);
    std::size_t at = std::min(boxed, fbox);
    if (at == std::string_view::npos) break;
    std::size_t after = at + (at == boxed ? 6 : 5);
    // \boxedfoo is another command, not a box.
    if (after < text.size() && std::isalpha(static_cast<unsigned char>(text[after]))) {
      pos = after;
      continue;
    }
    std::size_t i = after;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i < text.size() && text[i] == '{') {
      std::size_t close = matching_brace(text, i);
      if (close == std::string_view::npos) break;  // truncated box: nothing after it can be a box either
      spans.push_back({at, close, trim(text.substr(i + 1, close - i - 2))});
      pos = close;
    } else if (i > after) {
      // `\boxed 5`: the argument is the next run of non-space characters, minus a closing math delimiter.
      std::size_t j = i;
      while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) && text[j] != '$') ++j;
      std::string content = trim(text.substr(i, j - i));
      while (!content.empty() && (content.back() == '.' || content.back() == ',')) content.pop_back();
      if (!content.empty()) spans.push_back({at, j, content});
      pos = j;
    } else {
      pos = after;
    }
  }
  return spans;
}

// True when the text between two boxes only joins them: "and", "or", commas, math delimiters, spacing.
bool is_joining_gap(std::string_view gap) {
  if (gap.size() > 48) return false;
  std::string g(gap);
  for (std::string_view token : {"\\text{and}", "\\text{ and }", "\\text{or}", "\\text{ or }", "\\quad", "\\qquad",
                                 "\\(", "\\)", "\\[", "\\]", "\\,", "\\;", "and", "or"}) {
    for (std::size_t p = g.find(token); p != std::string::npos; p = g.find(token)) g.erase(p, token.size());
  }
  return std::all_of(g.begin(), g.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || c == ',' || c == ';' || c == '$';
  });
}

// `spans` are the region's boxes (find_box_spans), found once by the caller.
std::optional<ExtractedAnswer> from_boxes(std::string_view region, const std::vector<BoxSpan>& spans) {
  if (spans.empty()) return std::nullopt;
  // Walk back from the last box while the boxes are only joined by "and"/commas.
  std::size_t first = spans.size() - 1;
  while (first > 0 && is_joining_gap(region.substr(spans[first - 1].end, spans[first].begin - spans[first - 1].end)))
    --first;
  std::vector<std::string> distinct;
  for (std::size_t i = first; i < spans.size(); ++i)
    if (std::find(distinct.begin(), distinct.end(), spans[i].content) == distinct.end())
      distinct.push_back(spans[i].content);
  ExtractedAnswer answer;
  answer.method = ExtractionMethod::boxed;
  answer.joined_set = distinct.size() > 1;
  for (std::size_t i = 0; i < distinct.size(); ++i) answer.text += (i ? ", " : "") + distinct[i];
  if (answer.text.empty()) return std::nullopt;
  return answer;
}

std::optional<ExtractedAnswer> from_answer_tag(std::string_view region) {
  std::size_t open = region.rfind("<answer>");
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inner = region.substr(open + 8);
  std::size_t close = inner.find("</answer>");
  if (close != std::string_view::npos) inner = inner.substr(0, close);
  if (auto boxed = from_boxes(inner, find_box_spans(inner))) {
    boxed->method = ExtractionMethod::answer_tag;
    return boxed;
  }
  std::string text = trim(inner);
  if (text.empty()) return std::nullopt;
  return ExtractedAnswer{text, ExtractionMethod::answer_tag, false};
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Cleans what follows an anchor: up to the end of the line and of the sentence, without markdown emphasis
// and math delimiters.
std::string clean_phrase_answer(std::string_view rest) {
  std::size_t eol = rest.find('\n');
  std::string text(rest.substr(0, eol));
  // A sentence ends at ". " or a final "." — a decimal point is followed by a digit, so it survives.
  for (std::size_t i = 0; i + 1 < text.size(); ++i)
    if (text[i] == '.' && text[i + 1] == ' ') {
      text.resize(i);
      break;
    }
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '*' || text[i] == '`') continue;
    if (text[i] == '$' && (i == 0 || text[i - 1] != '\\')) continue;  // "\$18" is currency, kept whole
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '(' || text[i + 1] == ')' ||
                                                   text[i + 1] == '[' || text[i + 1] == ']')) {
      ++i;
      continue;
    }
    out += text[i];
  }
  out = trim(out);
  while (!out.empty() && (out.front() == ':' || out.front() == ' ')) out.erase(out.begin());
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  return trim(out);
}

// A phrase answer that is one number among plain words ("27 miles", "indeed 6") is that number.
std::string tidy_phrase_answer(const std::string& text) {
  if (text.find_first_of("\\$^_{}()[]=") != std::string::npos) return text;
  std::string number;
  std::size_t numbers = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool starts_number = std::isdigit(c) || (c == '-' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])));
    if (starts_number) {
      std::size_t j = i + 1;
      while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.' || text[j] == ',' || text[j] == '/'))
        ++j;
      number = text.substr(i, j - i);
      while (!number.empty() && (number.back() == ',' || number.back() == '.')) number.pop_back();
      ++numbers;
      i = j;
    } else if (std::isalpha(c) || c == ' ' || c == '\'' || c == '%') {
      ++i;
    } else {
      return text;
    }
  }
  return numbers == 1 ? number : text;
}

// "2,500": a comma between a digit and exactly three digits separates thousands, not list items.
bool is_thousands_comma(std::string_view text, std::size_t i) {
  auto digit = [&](std::size_t k) { return k < text.size() && std::isdigit(static_cast<unsigned char>(text[k])); };
  return i > 0 && digit(i - 1) && digit(i + 1) && digit(i + 2) && digit(i + 3) && !digit(i + 4);
}

// True when `text` is only a plain number: an optional sign and `$`, digits with thousands commas, and a
// decimal part or a fraction ("18", "-3", "$1,200", "2.5", "5/2").
bool is_plain_number(std::string_view text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  if (text.substr(i, 2) == "\\$") i += 2;
  else if (i < text.size() && text[i] == '$') ++i;
  std::size_t digits = 0;
  bool point = false, slash = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    bool digit_follows = i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]));
    if (std::isdigit(static_cast<unsigned char>(c))) ++digits;
    else if (c == ',' && is_thousands_comma(text, i) && !point && !slash) continue;
    else if (c == '.' && digit_follows && !point && !slash) point = true;
    else if (c == '/' && digits > 0 && digit_follows && !point && !slash) slash = true;
    else return false;
  }
  return digits > 0;
}

// GSM8K's answer lines: "#### 18" (the dataset's own) and "A: 18" (OpenAI's graded example solutions),
// only as the last non-empty line and only holding a plain number, as those formats write them: in Q/A
// few-shot prompts "A:" opens the reasoning (or the next question's answer), and "#### 1. Verify" is a
// markdown heading.
struct AnswerLine {
  std::size_t marker_at;
  std::string value;
};

std::optional<AnswerLine> answer_line(std::string_view region, std::string_view marker) {
  std::size_t line_end = region.find_last_not_of(" \t\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  std::size_t line_start = region.rfind('\n', line_end);
  line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
  std::string_view line = region.substr(line_start, line_end + 1 - line_start);
  std::size_t indent = line.find_first_not_of(" \t");
  if (line.substr(indent, marker.size()) != marker) return std::nullopt;
  // A completion with a "Q:" line went on to a next question of its few-shot prompt: its "A:" answers that.
  if (marker == "A:" && (region.substr(0, 2) == "Q:" || region.find("\nQ:") != std::string_view::npos)) return std::nullopt;
  std::string value = trim(line.substr(indent + marker.size()));
  if (!value.empty() && value.back() == '.') value.pop_back();
  if (!is_plain_number(value)) return std::nullopt;
  return AnswerLine{line_start + indent, value};
}

struct MathSpan;
std::vector<MathSpan> find_math_spans(std::string_view text);

struct StatedValue {
  std::size_t at;     // where the value starts
  std::string value;
};

// "$326.5$ is the final answer", "So 18 is the answer.": an anchor read backwards, whose value is the math
// span that ends right before it or a plain number. A word there ("this is the answer", "which is the
// answer", "what is the answer?") states nothing, and neither does a question ("is 5 the answer?" has no
// anchor; "5 is the answer?" asks).
std::optional<StatedValue> last_value_before_answer_anchor(std::string_view region, const std::string& lower);

// The last answer phrase: "the answer is", "the final answer is", an "Answer:" line, a GSM8K answer line,
// or a value followed by "is the answer".
std::optional<ExtractedAnswer> from_phrases(std::string_view region) {
  std::string lower = lowercase(region);
  std::size_t best = std::string::npos;
  std::size_t best_value = 0;
  auto consider = [&](std::size_t at, std::size_t value_at) {
    if (at != std::string::npos && (best == std::string::npos || at > best)) {
      best = at;
      best_value = value_at;
    }
  };
  for (std::string_view anchor : {"final answer is", "answer is"}) {
    std::size_t at = lower.rfind(anchor);
    if (at != std::string::npos) consider(at, at + anchor.size());
  }
  // An "Answer:" line: only spacing, '#', '*', '_' and optionally "final" before it on its line.
  for (std::size_t at = lower.rfind("answer"); at != std::string::npos; at = at ? lower.rfind("answer", at - 1) : std::string::npos) {
    std::size_t line_start = lower.rfind('\n', at);
    line_start = line_start == std::string::npos ? 0 : line_start + 1;
    std::string before = lower.substr(line_start, at - line_start);
    std::size_t final_at = before.rfind("final");
    if (final_at != std::string::npos) before.erase(final_at, 5);
    bool only_markup = std::all_of(before.begin(), before.end(), [](char c) {
      return c == ' ' || c == '\t' || c == '#' || c == '*' || c == '_';
    });
    std::size_t i = at + 6;
    while (i < lower.size() && (lower[i] == '*' || lower[i] == '_' || lower[i] == ' ')) ++i;
    if (only_markup && i < lower.size() && lower[i] == ':') {
      consider(at, i + 1);
      break;
    }
    if (at == 0) break;
  }
  for (std::string_view marker : {"####", "A:"})
    if (auto line = answer_line(region, marker)) consider(line->marker_at, line->marker_at + marker.size());
  auto stated = last_value_before_answer_anchor(region, lower);
  if (stated && (best == std::string::npos || stated->at > best))
    return ExtractedAnswer{stated->value, ExtractionMethod::phrase, false};
  if (best == std::string::npos) return std::nullopt;
  std::string rest(region.substr(best_value));
  // "**Answer:**\n\n42": the value may sit on the next non-empty line.
  std::size_t first_text = rest.find_first_not_of(" \t*_:");
  if (first_text != std::string::npos && rest[first_text] == '\n') {
    std::size_t next = rest.find_first_not_of(" \t\n*_", first_text);
    rest = next == std::string::npos ? "" : rest.substr(next);
  }
  std::string text = tidy_phrase_answer(clean_phrase_answer(rest));
  // "the answer is correct" is a remark, not an answer.
  for (std::string_view remark : {"correct", "incorrect", "right", "wrong", "indeed", "that", "the same", "consistent"})
    if (lowercase(text) == remark) return std::nullopt;
  if (text.empty()) return std::nullopt;
  return ExtractedAnswer{text, ExtractionMethod::phrase, false};
}

// ---- Fallback: the last LaTeX span, bare LaTeX expression or number ----

struct MathSpan {
  std::size_t begin;    // the opening delimiter
  std::size_t end;      // one past the closing delimiter
  std::string content;  // trimmed
};

// Where `close` closes a span whose contents start at `from`; an escaped \$ never closes a $ span.
std::size_t find_closing(std::string_view text, std::size_t from, std::string_view close) {
  for (std::size_t at = text.find(close, from); at != std::string_view::npos; at = text.find(close, at + 1))
    if (close != "$" || text[at - 1] != '\\') return at;
  return std::string_view::npos;
}

// Every closed math span, in order: $$...$$, \[...\], $...$, \(...\). An escaped \$ is currency, and an
// opening delimiter that is never closed ("it costs $5") is plain text.
std::vector<MathSpan> find_math_spans(std::string_view text) {
  std::vector<MathSpan> spans;
  std::vector<std::string_view> never_closed;  // once a closer is missing, it is missing for every later opener
  std::size_t i = 0;
  while (i < text.size()) {
    std::string_view close;
    std::size_t open_size = 0;
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '[' || text[i + 1] == '(')) {
      close = text[i + 1] == '[' ? "\\]" : "\\)";
      open_size = 2;
    } else if (text[i] == '\\') {
      i += 2;  // \$, \\ and every other escape
      continue;
    } else if (text[i] == '$') {
      bool display = i + 1 < text.size() && text[i + 1] == '$';
      close = display ? "$$" : "$";
      open_size = display ? 2 : 1;
    } else {
      ++i;
      continue;
    }
    std::size_t from = i + open_size;
    bool missing = std::find(never_closed.begin(), never_closed.end(), close) != never_closed.end();
    std::size_t at = missing ? std::string_view::npos : find_closing(text, from, close);
    if (at == std::string_view::npos) {
      if (!missing) never_closed.push_back(close);
      i = from;
      continue;
    }
    spans.push_back({i, at + close.size(), trim(text.substr(from, at - from))});
    i = at + close.size();
  }
  return spans;
}

std::optional<StatedValue> last_value_before_answer_anchor(std::string_view region, const std::string& lower) {
  std::optional<StatedValue> last;
  std::vector<MathSpan> spans;
  bool spans_found = false;
  for (std::string_view anchor : {"is the answer", "is the final answer", "is the correct answer", "is our answer",
                                  "is our final answer", "is my final answer", "is my answer"}) {
    for (std::size_t at = lower.rfind(anchor); at != std::string::npos && at > 0;
         at = lower.rfind(anchor, at - 1)) {
      std::size_t after = lower.find_first_not_of(" *_", at + anchor.size());
      bool whole_word = at + anchor.size() == lower.size() || !std::isalpha(static_cast<unsigned char>(lower[at + anchor.size()]));
      bool question = after != std::string::npos && lower[after] == '?';
      std::size_t end = lower.find_last_not_of(" *_", at - 1);  // one before the value's end
      if (!whole_word || question || end == std::string::npos || (lower[at - 1] != ' ' && lower[at - 1] != '*')) continue;
      std::optional<StatedValue> value;
      if (lower[end] == '$' || (lower[end] == ')' && end > 0 && lower[end - 1] == '\\')) {
        if (!spans_found) {
          spans = find_math_spans(region);
          spans_found = true;
        }
        for (const auto& span : spans)
          if (span.end == end + 1 && !span.content.empty()) value = StatedValue{span.begin, span.content};
      } else {
        std::size_t begin = end + 1;
        auto in_number = [&](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == ',' || c == '/'; };
        if (lower[end] == '%') --begin;
        while (begin > 0 && in_number(lower[begin - 1])) --begin;
        if (begin > 0 && lower[begin - 1] == '-') --begin;
        std::string number(region.substr(begin, end + 1 - begin));
        bool word_before = begin > 0 && (std::isalnum(static_cast<unsigned char>(lower[begin - 1])) || lower[begin - 1] == '_' || lower[begin - 1] == '^');
        if (!word_before && is_plain_number(number.back() == '%' ? number.substr(0, number.size() - 1) : number))
          value = StatedValue{begin, number};
      }
      // "check if 5 is the answer", "suppose 5 is the answer": a value put to the test is not stated.
      if (value) {
        std::size_t word_end = lower.find_last_not_of(" *_$(\\", value->at == 0 ? 0 : value->at - 1);
        std::size_t word_begin = word_end;
        while (word_begin != std::string::npos && word_begin > 0 && std::isalpha(static_cast<unsigned char>(lower[word_begin - 1])))
          --word_begin;
        std::string word = word_end == std::string::npos || value->at == 0 ? "" : lower.substr(word_begin, word_end + 1 - word_begin);
        for (std::string_view condition : {"if", "whether", "suppose", "assume", "assuming", "unless", "not"})
          if (word == condition) value.reset();
      }
      if (!value) continue;  // "this is the answer": an earlier occurrence may state it
      if (!last || value->at > last->at) last = value;
      break;
    }
  }
  return last;
}

// The LaTeX commands a bare expression (outside $...$) is made of.
enum class CommandKind {
  value,     // \pi, \frac{a}{b}, \sqrt{x}: a value once its arguments are read
  function,  // \sin, \log: a value only with the argument that follows
  operation, // \cdot, \le, \pm: joins two values
  left,      // \left( opens
  right,     // \right) closes
};

struct MathCommand {
  std::string_view name;
  CommandKind kind;
  int arguments;
};

const MathCommand* find_math_command(std::string_view name) {
  using K = CommandKind;
  static constexpr MathCommand kCommands[] = {
      {"frac", K::value, 2},       {"dfrac", K::value, 2},     {"tfrac", K::value, 2},     {"cfrac", K::value, 2},
      {"binom", K::value, 2},      {"dbinom", K::value, 2},    {"tbinom", K::value, 2},    {"sqrt", K::value, 1},
      {"pi", K::value, 0},         {"infty", K::value, 0},     {"circ", K::value, 0},      {"theta", K::value, 0},
      {"alpha", K::value, 0},      {"beta", K::value, 0},      {"gamma", K::value, 0},     {"sin", K::function, 0},
      {"cos", K::function, 0},     {"tan", K::function, 0},    {"cot", K::function, 0},    {"sec", K::function, 0},
      {"csc", K::function, 0},     {"arcsin", K::function, 0}, {"arccos", K::function, 0}, {"arctan", K::function, 0},
      {"log", K::function, 0},     {"ln", K::function, 0},     {"exp", K::function, 0},    {"pm", K::operation, 0},
      {"mp", K::operation, 0},     {"cdot", K::operation, 0},  {"times", K::operation, 0}, {"div", K::operation, 0},
      {"le", K::operation, 0},     {"ge", K::operation, 0},    {"ne", K::operation, 0},    {"leq", K::operation, 0},
      {"geq", K::operation, 0},    {"neq", K::operation, 0},   {"lt", K::operation, 0},    {"gt", K::operation, 0},
      {"approx", K::operation, 0}, {"left", K::left, 0},       {"right", K::right, 0},
  };
  for (const auto& command : kCommands)
    if (command.name == name) return &command;
  return nullptr;
}

// UTF-8 symbols models write outside LaTeX: π and √ are values, the rest operators.
constexpr std::string_view kUnicodePi = "\xCF\x80", kUnicodeRoot = "\xE2\x88\x9A", kUnicodeMinus = "\xE2\x88\x92";
constexpr std::string_view kUnicodeOperators[] = {kUnicodeMinus, "\xC3\x97", "\xC2\xB7", "\xE2\x89\xA4",
                                                  "\xE2\x89\xA5", "\xE2\x89\xA0"};

bool is_operator_char(char c) { return c != '\0' && std::string_view("+-*/=<>").find(c) != std::string_view::npos; }

// Drops parentheses that close or open nothing at the ends ("\frac{7}{3})" -> "\frac{7}{3}"); false when
// an unmatched one sits inside, as in a cut-off "(1.036)^3 - 3.31(1".
bool trim_unmatched_parentheses(std::string& text) {
  std::vector<std::size_t> open, unmatched_close;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') open.push_back(i);
    if (text[i] == ')') {
      if (open.empty()) unmatched_close.push_back(i);
      else open.pop_back();
    }
  }
  for (std::size_t k = 0; k < open.size(); ++k)
    if (open[k] != k) return false;
  for (std::size_t k = 0; k < unmatched_close.size(); ++k)
    if (unmatched_close[unmatched_close.size() - 1 - k] != text.size() - 1 - k) return false;
  text = trim(std::string_view(text).substr(open.size(), text.size() - open.size() - unmatched_close.size()));
  return true;
}

std::size_t count_command(std::string_view text, std::string_view command) {
  std::size_t count = 0;
  for (std::size_t at = text.find(command); at != std::string_view::npos; at = text.find(command, at + 1))
    if (at + command.size() == text.size() || !std::isalpha(static_cast<unsigned char>(text[at + command.size()])))
      ++count;
  return count;
}

// Finds the last answer in plain text (outside math spans): a bare LaTeX expression (`\frac{7}{3}`,
// `3\pi`, `2 + \sqrt{3}`, `x \le 4`, `x^2 + 1`, `4343_6`) taken whole, else a number (`-3`, `.5`,
// `2,500`, `2 500`, `3.75`, `3/4`, `50%`). Digits inside a word (`XK3Q`, `model2`, `H2O`, `GPT-4`,
// `product_mod_1000`, the exponent of `cm^2`) are not numbers. An expression cut off at the end of the text
// or with an unmatched bracket inside is not taken; the numbers in it still count.
class PlainTextScanner {
 public:
  // Longer runs are not taken as one expression (their numbers still count); this also keeps the scan
  // linear on long or adversarial text.
  static constexpr std::size_t kMaxExpressionLength = 400;

  explicit PlainTextScanner(std::string_view text) : s_(text) {}

  std::optional<std::string> last_answer() {
    std::size_t i = 0;
    while (i < s_.size()) {
      char c = s_[i];
      if (c == '\\') {
        std::size_t name_end = letters_end(i + 1);
        if (command_at(i))
          i = take_expression(i, name_end);
        else
          i = name_end > i + 1 ? name_end : i + 2;  // \text, \quad, or an escape (\$, \%, \,)
      } else if (c == '^' || c == '_') {
        // x^2, 2^{10}, (a+b)^2 and 4343_6 are expressions; the exponent of cm^2 is no number.
        bool value_before =
            i > 0 && (digit(i - 1) || (c == '^' && (s_[i - 1] == ')' || (letter(i - 1) && !letter(i - 2)))));
        std::size_t after_argument = argument_end(i + 1).value_or(i + 1);
        i = value_before ? take_expression(i, after_argument) : after_argument;
      } else if (at(i, kUnicodePi) || at(i, kUnicodeRoot)) {
        i = take_expression(i, i + (at(i, kUnicodePi) ? kUnicodePi.size() : kUnicodeRoot.size()));
      } else if (letter(i)) {
        i = word_end(i);
      } else if (starts_number(i)) {
        NumberRead number = read_number(i);
        if (number.text) last_ = *number.text;
        i = number.end;
      } else {
        ++i;
      }
    }
    if (last_.empty()) return std::nullopt;
    return last_;
  }

 private:
  struct NumberRead {
    std::size_t end;
    std::optional<std::string> text;  // none: the digits belong to a word or a section number (1.2.3)
  };
  struct Extent {
    std::size_t end;  // one past the last value
    bool complete;    // false: cut off (an open brace, a missing argument, an operator at the very end)
  };

  bool digit(std::size_t i) const { return i < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i])); }
  bool letter(std::size_t i) const { return i < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i])); }
  bool alnum(std::size_t i) const { return digit(i) || letter(i); }
  bool at(std::size_t i, std::string_view token) const { return i <= s_.size() && s_.substr(i, token.size()) == token; }
  std::size_t letters_end(std::size_t i) const {
    while (letter(i)) ++i;
    return i;
  }
  std::size_t digits_end(std::size_t i) const {
    while (digit(i)) ++i;
    return i;
  }
  // The text up to kMaxExpressionLength past `i`: where an expression's brackets must close.
  std::string_view window(std::size_t i) const { return s_.substr(0, std::min(s_.size(), i + kMaxExpressionLength)); }
  const MathCommand* command_at(std::size_t i) const {
    if (i >= s_.size() || s_[i] != '\\') return nullptr;
    std::size_t name_end = letters_end(i + 1);
    return name_end > i + 1 ? find_math_command(s_.substr(i + 1, name_end - i - 1)) : nullptr;
  }

  // A sign is a '-' (or −) directly before the digits that does not follow a letter, digit or bracket.
  std::size_t sign_size(std::size_t i) const {
    std::size_t size = at(i, "-") ? 1 : at(i, kUnicodeMinus) ? kUnicodeMinus.size() : 0;
    if (size == 0 || (i > 0 && (alnum(i - 1) || s_[i - 1] == ')' || s_[i - 1] == ']' || s_[i - 1] == '}'))) return 0;
    return size;
  }
  bool starts_number(std::size_t i) const {
    i += sign_size(i);
    return digit(i) || (at(i, ".") && digit(i + 1) && !(i > 0 && alnum(i - 1)));
  }

  // A word: letters, or an identifier that mixes letters, digits and underscores (model2, XK3Q, H2O,
  // product_mod_1000, Qwen2.5-7B, GPT-4); none of its digits is a number.
  std::size_t word_end(std::size_t i) const {
    std::size_t end = letters_end(i);
    bool identifier =
        digit(end) || (at(end, "_") && alnum(end + 1)) || (end - i >= 2 && at(end, "-") && digit(end + 1));
    return identifier ? identifier_end(end) : end;
  }
  std::size_t identifier_end(std::size_t i) const {
    while (i < s_.size()) {
      if (alnum(i)) ++i;
      else if ((s_[i] == '.' || s_[i] == '-' || s_[i] == '_') && alnum(i + 1)) i += 2;
      else break;
    }
    return i;
  }

  NumberRead read_number(std::size_t begin) const {
    std::size_t sign = sign_size(begin);
    std::size_t i = begin + sign;
    std::string number = sign ? "-" : "";
    std::size_t int_end = digits_end(i);
    number += s_.substr(i, int_end - i);
    bool grouped = false;
    // Thousands groups: 1 to 3 digits, then groups of exactly 3 after one separator used throughout.
    if (int_end > i && int_end - i <= 3) {
      for (std::string_view separator : {",", " ", "\\,", "{,}", ",\\!"}) {
        std::size_t j = int_end;
        while (at(j, separator) && digits_end(j + separator.size()) == j + separator.size() + 3) {
          number += s_.substr(j + separator.size(), 3);
          j += separator.size() + 3;
          grouped = true;
        }
        if (grouped) {
          int_end = j;
          break;
        }
      }
    }
    i = int_end;
    if (at(i, ".") && digit(i + 1)) {
      std::size_t end = digits_end(i + 1);
      if (at(end, ".") && digit(end + 1)) return {identifier_end(end), std::nullopt};  // 1.2.3: a section
      number += s_.substr(i, end - i);
      i = end;
    } else if (at(i, "/") && digit(i + 1) && !grouped) {
      std::size_t end = digits_end(i + 1);
      number += s_.substr(i, end - i);
      i = end;
    }
    if (at(i, "%")) {
      number += '%';
      ++i;
    } else if (at(i, "\\%")) {
      number += "\\%";
      i += 2;
    }
    if (letter(i)) {
      std::size_t end = letters_end(i);
      if (digit(end) || (at(end, "_") && alnum(end + 1))) return {identifier_end(end), std::nullopt};  // 3a4f
    }
    return {i, number};
  }

  // One past the argument of ^, _, √ or a command: a brace group, a command, or one character; none when
  // the text is cut off before it.
  std::optional<std::size_t> argument_end(std::size_t i) const {
    while (i < s_.size() && s_[i] == ' ') ++i;
    if (i >= s_.size()) return std::nullopt;
    if (s_[i] == '{') {
      std::size_t close = matching_brace(window(i), i);
      if (close == std::string_view::npos) return std::nullopt;
      return close;
    }
    if (s_[i] == '\\') {
      if (i + 1 >= s_.size()) return std::nullopt;
      return letter(i + 1) ? letters_end(i + 1) : i + 2;
    }
    if (std::string_view(".,;:!?)]}$*\n").find(s_[i]) != std::string_view::npos) return std::nullopt;
    return i + 1;
  }

  // A space continues an expression before an operator or a closing \right, or between a number and a
  // command ("3 \pi"); expression_end also lets one follow an operator, a function or an opening bracket.
  bool joins_after_space(std::size_t i, bool after_number) const {
    if (i >= s_.size()) return false;
    if (is_operator_char(s_[i]) && !at(i, "**")) return true;
    for (auto op : kUnicodeOperators)
      if (at(i, op)) return true;
    const MathCommand* command = command_at(i);
    if (!command) return false;
    return command->kind == CommandKind::operation || command->kind == CommandKind::right || after_number;
  }

  // The expression around `trigger` (a command, ^, _, π or √): back over the numbers, one-letter variables
  // and operators before it, forward to its last value. Returns where to scan on; `resume` when the
  // expression is cut off or unbalanced, so that the numbers in it still count.
  std::size_t take_expression(std::size_t trigger, std::size_t resume) {
    std::size_t begin = expression_begin(trigger);
    Extent extent = expression_end(begin);
    if (extent.end <= trigger && command_at(trigger)) {
      begin = trigger;
      extent = expression_end(trigger);
    }
    if (!extent.complete || extent.end <= trigger) return resume;
    std::string text(s_.substr(begin, extent.end - begin));
    // Leading operators other than a sign are not the answer ("= \frac{7}{3}").
    while (!text.empty() && (text.front() == ' ' || (is_operator_char(text.front()) && text.front() != '-')))
      text.erase(text.begin());
    bool balanced = trim_unmatched_parentheses(text) && count_command(text, "\\left") == count_command(text, "\\right");
    if (!balanced || text.empty()) return resume;
    last_ = text;
    return extent.end;
  }

  std::size_t expression_begin(std::size_t b) const {
    std::size_t limit = b > kMaxExpressionLength ? b - kMaxExpressionLength : 0;
    while (b > limit) {
      char c = s_[b - 1];
      if (c == ' ') {
        std::size_t k = b - 1;
        while (k > 0 && s_[k - 1] == ' ') --k;
        if (k == 0) break;
        bool joins = (is_operator_char(s_[k - 1]) && !(k >= 2 && s_[k - 2] == '*' && s_[k - 1] == '*')) ||
                     s_[k - 1] == '(' || joins_after_space(b, digit(k - 1));
        if (!joins) break;
        b = k;
      } else if (c == '*' && b >= 2 && s_[b - 2] == '*') {
        break;  // markdown bold
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        std::size_t k = b - 1;
        while (k > 0 && digit(k - 1)) --k;
        if (k > 0 && (s_[k - 1] == '^' || s_[k - 1] == '_')) break;  // the exponent of an earlier power
        b = k;
      } else if (c == '.' || is_operator_char(c) || c == '(' || c == ')' || c == '!') {
        --b;
      } else if (letter(b - 1) && !letter(b - 2) && !letter(b)) {
        --b;  // a one-letter variable
      } else {
        break;
      }
    }
    return b;
  }

  Extent expression_end(std::size_t i) const {
    const std::size_t start = i;
    std::size_t value_end = i;
    bool expect_value = true;  // after an operator, a function, an opening bracket or at the start
    bool after_number = false;
    while (i < s_.size()) {
      if (i - start > kMaxExpressionLength) return {value_end, false};
      char c = s_[i];
      if (c == ' ' || c == '\t') {
        std::size_t j = i;
        while (j < s_.size() && (s_[j] == ' ' || s_[j] == '\t')) ++j;
        if (!expect_value && !joins_after_space(j, after_number)) break;
        i = j;
        continue;
      }
      if (at(i, "**")) break;  // markdown bold
      after_number = false;
      if (c == '\\') {
        const MathCommand* command = command_at(i);
        if (!command) break;
        i = letters_end(i + 1);
        if (command->name == "sqrt") {
          while (at(i, " ")) ++i;
          if (at(i, "[")) {
            std::size_t close = window(i).find(']', i);
            if (close == std::string_view::npos) return {value_end, false};
            i = close + 1;
          }
        }
        if (command->kind == CommandKind::left || command->kind == CommandKind::right) {
          // The delimiter: any character (\left( \right. \right|) or an escaped one (\left\{, \right\rfloor).
          while (at(i, " ")) ++i;
          if (i >= s_.size() || s_[i] == '\n') return {value_end, false};
          i = s_[i] == '\\' ? (letter(i + 1) ? letters_end(i + 1) : std::min(i + 2, s_.size())) : i + 1;
        }
        for (int a = 0; a < command->arguments; ++a) {
          auto end = argument_end(i);
          if (!end) return {value_end, false};
          i = *end;
        }
        expect_value = command->kind != CommandKind::value && command->kind != CommandKind::right;
      } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && digit(i + 1))) {
        NumberRead number = read_number(i);
        if (!number.text) break;
        i = number.end;
        expect_value = false;
        after_number = true;
      } else if (letter(i)) {
        if (letter(i + 1)) break;  // a word ends the expression
        ++i;
        expect_value = false;
      } else if (c == '^' || c == '_') {
        auto end = argument_end(i + 1);
        if (!end) return {value_end, false};
        i = *end;  // \sin^2 x still expects its argument
      } else if (c == '{') {
        std::size_t close = matching_brace(window(i), i);
        if (close == std::string_view::npos) return {value_end, false};
        i = close;
        expect_value = false;
      } else if (is_operator_char(c) || c == '(' || c == '[') {
        ++i;
        expect_value = true;
      } else if (c == ')' || c == ']' || c == '|' || c == '!') {
        ++i;
        expect_value = false;
      } else if (at(i, kUnicodePi)) {
        i += kUnicodePi.size();
        expect_value = false;
      } else if (at(i, kUnicodeRoot)) {
        auto end = argument_end(i + kUnicodeRoot.size());
        if (!end) return {value_end, false};
        i = *end;
        expect_value = false;
      } else {
        std::size_t op_size = 0;
        for (auto op : kUnicodeOperators)
          if (at(i, op)) op_size = op.size();
        if (op_size == 0) break;
        i += op_size;
        expect_value = true;
      }
      if (!expect_value) value_end = i;
    }
    // The text ends where a value is still expected ("\frac{1}{2} +"): it was cut off.
    if (i >= s_.size() && expect_value) return {value_end, false};
    return {value_end, true};
  }

  std::string_view s_;
  std::string last_;
};

std::optional<ExtractedAnswer> from_fallback(std::string_view region) {
  // Whichever comes last: a LaTeX span, or a bare expression or number in the plain text around spans.
  auto plain_answer = [](std::string_view text) { return PlainTextScanner(text).last_answer(); };
  auto spans = find_math_spans(region);
  std::size_t gap_end = region.size();
  for (std::size_t k = spans.size(); k-- > 0;) {
    if (auto plain = plain_answer(region.substr(spans[k].end, gap_end - spans[k].end)))
      return ExtractedAnswer{*plain, ExtractionMethod::fallback, false};
    if (!spans[k].content.empty()) return ExtractedAnswer{spans[k].content, ExtractionMethod::fallback, false};
    gap_end = spans[k].begin;
  }
  if (auto plain = plain_answer(region.substr(0, gap_end)))
    return ExtractedAnswer{*plain, ExtractionMethod::fallback, false};
  return std::nullopt;
}

// "Final Answer: The final answer is $X$. I hope it is correct." (the Minerva few-shot format): the value
// of a final-answer anchor that opens its sentence ("The final answer is", a "Final Answer:" line) when it
// is a math span or a plain number with nothing after it on its line but that closing remark. So "check
// that the final answer is 3 digits long", "the final answer is consistent with step 2" and "the final
// answer is $42$ cm$^2$" state nothing here.
std::optional<std::string> minerva_final_answer(std::string_view text) {
  std::string lower = lowercase(text);
  std::size_t best = std::string::npos, value_at = 0;
  for (std::string_view anchor : {"final answer is", "final answer:"}) {
    std::size_t at = lower.rfind(anchor);
    if (at == std::string::npos) continue;
    std::size_t k = at;
    if (k >= 4 && lower.compare(k - 4, 4, "the ") == 0) k -= 4;
    while (k > 0 && std::string_view(" \t*#_").find(lower[k - 1]) != std::string_view::npos) --k;
    bool opens_sentence = k == 0 || lower[k - 1] == '\n' || lower[k - 1] == ':' || lower[k - 1] == '.';
    if (opens_sentence && (best == std::string::npos || at > best)) {
      best = at;
      value_at = at + anchor.size();
    }
  }
  if (best == std::string::npos) return std::nullopt;
  std::string_view rest = text.substr(value_at);
  std::size_t start = rest.find_first_not_of(" \t\n*_:");
  if (start == std::string_view::npos) return std::nullopt;
  rest = rest.substr(start);
  std::string value;
  std::string_view after;
  std::string_view open = rest.substr(0, 2) == "\\(" ? "\\(" : (rest.substr(0, 1) == "$" && rest.substr(0, 2) != "$$") ? "$" : "";
  if (!open.empty()) {
    std::string_view close = open == "$" ? "$" : "\\)";
    std::size_t end = find_closing(rest, open.size(), close);
    if (end == std::string_view::npos) return std::nullopt;
    value = trim(rest.substr(open.size(), end - open.size()));
    after = rest.substr(end + close.size());
  } else {
    std::string_view line = rest.substr(0, rest.find('\n'));
    std::size_t stop = line.find(". ");
    value = trim(line.substr(0, stop));
    if (stop != std::string_view::npos) after = line.substr(stop);
    if (!value.empty() && value.back() == '.') value.pop_back();
    if (!is_plain_number(value)) return std::nullopt;
  }
  std::string tail = lowercase(after.substr(0, after.find('\n')));
  if (std::size_t hope = tail.find("i hope it is correct"); hope != std::string::npos) tail.erase(hope, 20);
  if (tail.find_first_not_of(" \t.") != std::string::npos || value.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::size_t matching_brace(std::string_view text, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    // \{ and \} are literal braces; \\ is a line break, so "5\\}" closes the group.
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == '{' || text[i + 1] == '}' || text[i + 1] == '\\')) {
      ++i;
      continue;
    }
    if (c == '{') ++depth;
    if (c == '}' && --depth == 0) return i + 1;
  }
  return std::string_view::npos;
}

std::vector<std::string> equality_sides(std::string_view text) {
  std::vector<std::string> sides;
  int depth = 0;
  std::size_t from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' || c == '(' || c == '[') ++depth;
    if (c == '}' || c == ')' || c == ']') --depth;
    if (depth != 0) continue;
    if ((c == ',' && !is_thousands_comma(text, i)) || c == ';') return {trim(text)};  // a list: "x = 1, y = 2"
    bool relation_part = (i > 0 && std::string_view("<>!=").find(text[i - 1]) != std::string_view::npos) ||
                         (i + 1 < text.size() && text[i + 1] == '=');
    if (c != '=' || relation_part) continue;
    std::string side = trim(text.substr(from, i - from));
    if (!side.empty() && side.back() == ':') side = trim(side.substr(0, side.size() - 1));  // x := 5
    sides.push_back(side);
    from = i + 1;
  }
  sides.push_back(trim(text.substr(from)));
  for (const auto& side : sides)
    if (side.empty()) return {trim(text)};
  return sides;
}

std::string fallback_compared_text(std::string_view answer, bool reference_is_relation) {
  auto sides = equality_sides(answer);
  if (sides.size() < 2) return std::string(answer);
  if (!reference_is_relation) return sides.back();
  return sides.size() == 2 ? std::string(answer) : sides.front() + " = " + sides.back();
}

std::string_view extraction_method_name(ExtractionMethod method) {
  switch (method) {
    case ExtractionMethod::boxed: return "boxed";
    case ExtractionMethod::answer_tag: return "answer_tag";
    case ExtractionMethod::phrase: return "phrase";
    case ExtractionMethod::fallback: return "fallback";
  }
  return "boxed";
}

std::vector<std::string> math_span_contents(std::string_view text) {
  std::vector<std::string> out;
  for (auto& span : find_math_spans(text)) out.push_back(std::move(span.content));
  return out;
}

std::vector<std::string> find_boxed(std::string_view text) {
  std::vector<std::string> out;
  for (auto& span : find_box_spans(text)) out.push_back(span.content);
  return out;
}

std::optional<std::string> extract_reference_answer(std::string_view reference) {
  if (auto boxed = from_boxes(reference, find_box_spans(reference))) return boxed->text;
  if (auto tagged = from_answer_tag(reference)) return tagged->text;
  if (auto line = answer_line(reference, "####")) return line->value;
  return minerva_final_answer(reference);
}

std::optional<ExtractedAnswer> extract_math_answer(std::string_view region, bool allow_fallback) {
  auto boxes = find_box_spans(region);
  if (auto answer = from_boxes(region, boxes)) {
    // A final answer stated after the last box is the model's last word: completions in the Minerva
    // few-shot format box intermediate results, then close with "Final Answer: The final answer is $X$.
    // I hope it is correct." Only that strict shape overrides the box; a remark after it ("the final
    // answer is clearly highlighted", "... consistent with step 2") changes nothing.
    if (auto stated = minerva_final_answer(region.substr(boxes.back().end)))
      return ExtractedAnswer{*stated, ExtractionMethod::phrase, false};
    return answer;
  }
  if (auto answer = from_answer_tag(region)) return answer;
  if (auto answer = from_phrases(region)) return answer;
  if (!allow_fallback) return std::nullopt;
  // Any box left here is empty ("\\boxed{}"): the model boxed an empty answer. The fallback reads only past
  // the last box, so nothing written before it stands in for what the box should have held.
  return from_fallback(boxes.empty() ? region : region.substr(boxes.back().end));
}

}  // namespace r1lab::grading
