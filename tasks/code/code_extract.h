// tasks/code/code_extract.h — the program in a model's answer: the last fenced code block.
//
// As LiveCodeBench (lcb_runner/utils/extraction_utils.py): the text between the last two lines that
// contain ``` . The language comes from the opening fence's tag (python, py, cpp, c++, ...); without a
// tag it is guessed (#include or int main means C++), else the task's default.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tasks/code/program.h"

namespace r1lab::code {

struct ExtractedCode {
  std::string source;
  Language language = Language::python;
  std::string fence_tag;   // as written after ``` ("" when none)
};

std::optional<ExtractedCode> extract_last_code_block(std::string_view answer_region, Language default_language);

}  // namespace r1lab::code
