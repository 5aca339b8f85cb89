// tasks/grading/math_extract.h — find the final answer of a math completion.
//
// Order (the first that finds something wins), all within the answer region:
//   1. the last \boxed{...} / \fbox{...} (brace-balanced; also `\boxed 5`). Boxes that are identical count
//      once; several boxes joined only by "and", commas or math delimiters form a set ("1, 2"). A final
//      answer in the Minerva format after the last box overrides the boxes ("The final answer is $X$. I
//      hope it is correct.": boxes may hold intermediate results).
//   2. the last <answer>...</answer> (a box inside it is preferred to its raw text)
//   3. the last anchored phrase: "final answer is X", "the answer is X", or an `Answer: X` line
//      (markdown bold and headings tolerated); GSM8K's "#### 18" and "A: 18" as the last line, a plain number
//   4. opt-in fallback, only in the text after the last box (an empty one, "\boxed{}", when it gets here):
//      whichever comes last of a LaTeX span ($...$, $$...$$, \(...\), \[...\]), a bare
//      LaTeX expression outside them (\frac{7}{3}, 3\pi, 2 + \sqrt{3}, x \le 4: taken whole) and a number
//      (-3, .5, 3.75, 3/4, 2,500 and 2 500 as one number); digits inside a word (XK3Q, model2, H2O, GPT-4,
//      cm^2) are no number. The span or expression is kept whole; fallback_compared_text decides which
//      part of an equation is compared.
// Does not judge the answer; math_equivalence.h does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1lab::grading {

enum class ExtractionMethod { boxed, answer_tag, phrase, fallback };

struct ExtractedAnswer {
  std::string text;          // as written (box contents, several joined by ", ")
  ExtractionMethod method = ExtractionMethod::boxed;
  bool joined_set = false;   // several distinct boxes were joined into one set
};

std::string_view extraction_method_name(ExtractionMethod method);

// The answer a reference states when it is a solution rather than an answer: its boxes (joined as in
// extract_math_answer), an <answer> tag, a GSM8K solution's last line "#### 72", or a Minerva final answer
// ("Final Answer: The final answer is $28\%$. I hope it is correct."). Nothing for anything else, prose
// included ("The answer is 2 million.", "\text{No answer is possible}"): such a reference is the answer
// as written.
std::optional<std::string> extract_reference_answer(std::string_view reference);

// The contents of every \boxed / \fbox in order of appearance.
std::vector<std::string> find_boxed(std::string_view text);

// The contents of every closed math span ($...$, $$...$$, \(...\), \[...\]) in order, trimmed; an escaped
// \$ is currency and an unclosed opener plain text.
std::vector<std::string> math_span_contents(std::string_view text);

std::optional<ExtractedAnswer> extract_math_answer(std::string_view region, bool allow_fallback);

// Index one past the brace that closes the group opened at `open` (text[open] == '{'); npos if unbalanced.
// An escaped brace (\{ or \}) does not count; \\ is a line break, so "5\\}" closes the group.
std::size_t matching_brace(std::string_view text, std::size_t open);

// The sides of a chain of equalities at bracket depth 0 ("x = 417 \times 3 = 1251" has three); the whole
// text when it has no '=' (<=, >=, != are relations, not equalities) or is a list ("x = 1, y = 2").
std::vector<std::string> equality_sides(std::string_view text);

// What of a fallback answer is compared, following the reference's form (as Math-Verify does): against an
// equation or inequality, the answer whole ("y = 2x - 1" against "2x - y - 1 = 0"), a chain a = b = c
// shortened to a = c; against anything else, the last side of a chain of equalities ("x = 417 \times 3 =
// 1251" is 1251). A list ("x = 1, y = 2") and a text without '=' are compared whole.
std::string fallback_compared_text(std::string_view answer, bool reference_is_relation);

}  // namespace r1lab::grading
