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

// Index one past the brace that closes the group opened at `open` (text[open] == '{'); npos if unbalanced.
// An escaped brace (\{ or \}) does not count.
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

std::optional<ExtractedAnswer> from_boxes(std::string_view region) {
  auto spans = find_box_spans(region);
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
  if (auto boxed = from_boxes(inner)) {
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
    if (text[i] == '$') continue;
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

// The last side of a chain of equalities at brace depth 0 ("x = 417 \\times 3 = 1251" -> "1251").
std::string last_equality_side(const std::string& text) {
  int depth = 0;
  std::size_t cut = std::string::npos;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '{' || text[i] == '(' || text[i] == '[') ++depth;
    if (text[i] == '}' || text[i] == ')' || text[i] == ']') --depth;
    if (text[i] == '=' && depth == 0) cut = i;
  }
  if (cut == std::string::npos) return text;
  std::string side = trim(std::string_view(text).substr(cut + 1));
  return side.empty() ? text : side;
}

std::optional<ExtractedAnswer> from_fallback(std::string_view region) {
  // Whichever comes last: a LaTeX span, or a number in plain text.
  std::size_t span_begin = std::string_view::npos, span_end = 0;
  std::string span;
  auto consider_span = [&](std::string_view open, std::string_view close) {
    std::size_t end = region.rfind(close);
    if (end == std::string_view::npos || end == 0) return;
    std::size_t begin = region.rfind(open, end - 1);
    if (begin == std::string_view::npos) return;
    if (span_begin == std::string_view::npos || begin > span_begin) {
      span_begin = begin;
      span_end = end + close.size();
      span = trim(region.substr(begin + open.size(), end - begin - open.size()));
    }
  };
  consider_span("\\(", "\\)");
  consider_span("\\[", "\\]");
  consider_span("$", "$");
  // Last number (with sign, thousands separators, decimals and a simple fraction).
  std::size_t i = region.size();
  while (i > 0 && !std::isdigit(static_cast<unsigned char>(region[i - 1]))) --i;
  std::string number;
  std::size_t number_end = i;
  if (i > 0 && (span_begin == std::string_view::npos || i > span_end)) {
    while (i > 0 && (std::isdigit(static_cast<unsigned char>(region[i - 1])) || region[i - 1] == '.' || region[i - 1] == '/' ||
                     (region[i - 1] == ',' && i >= 2 && std::isdigit(static_cast<unsigned char>(region[i - 2])))))
      --i;
    if (i > 0 && region[i - 1] == '-') --i;
    number = trim(region.substr(i, number_end - i));
    while (!number.empty() && (number.front() == '.' || number.front() == ',' || number.front() == '/')) number.erase(number.begin());
  }
  if (!number.empty()) return ExtractedAnswer{number, ExtractionMethod::fallback, false};
  if (!span.empty()) return ExtractedAnswer{last_equality_side(span), ExtractionMethod::fallback, false};
  return std::nullopt;
}

}  // namespace

std::string_view extraction_method_name(ExtractionMethod method) {
  switch (method) {
    case ExtractionMethod::boxed: return "boxed";
    case ExtractionMethod::answer_tag: return "answer_tag";
    case ExtractionMethod::phrase: return "phrase";
    case ExtractionMethod::fallback: return "fallback";
  }
  return "boxed";
}

std::vector<std::string> find_boxed(std::string_view text) {
  std::vector<std::string> out;
  for (auto& span : find_box_spans(text)) out.push_back(span.content);
  return out;
}

std::optional<ExtractedAnswer> extract_math_answer(std::string_view region, bool allow_fallback) {
  if (auto answer = from_boxes(region)) return answer;
  if (auto answer = from_answer_tag(region)) return answer;
  if (auto answer = from_phrases(region)) return answer;
  if (allow_fallback) return from_fallback(region);
  return std::nullopt;
}

}  // namespace r1lab::grading
