// tasks/grading/math_extract.h — find the final answer of a math completion.
//
// Order (the first that finds something wins), all within the answer region:
//   1. the last \boxed{...} / \fbox{...} (brace-balanced; also `\boxed 5`). Boxes that are identical count
//      once; several boxes joined only by "and", commas or math delimiters form a set ("1, 2").
//   2. the last <answer>...</answer> (a box inside it is preferred to its raw text)
//   3. the last anchored phrase: "final answer is X", "the answer is X", or an `Answer: X` line
//      (markdown bold and headings tolerated)
//   4. opt-in fallback: the last LaTeX span ($...$, \(...\), \[...\]), else the last number
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

// The contents of every \boxed / \fbox in order of appearance.
std::vector<std::string> find_boxed(std::string_view text);

std::optional<ExtractedAnswer> extract_math_answer(std::string_view region, bool allow_fallback);

}  // namespace r1lab::grading
