#include "tasks/code/code_extract.h"

#include <cctype>
#include <vector>

namespace r1lab::code {

std::optional<ExtractedCode> extract_last_code_block(std::string_view text, Language default_language) {
  std::vector<std::pair<std::size_t, std::size_t>> fence_lines;   // [begin, end) of lines containing ```
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (text.substr(start, end - start).find("```") != std::string_view::npos) fence_lines.emplace_back(start, end);
    start = end + 1;
  }
  if (fence_lines.size() < 2) return std::nullopt;
  auto [open_begin, open_end] = fence_lines[fence_lines.size() - 2];
  auto close_begin = fence_lines.back().first;
  ExtractedCode code;
  std::size_t body_begin = std::min(open_end + 1, close_begin);
  std::size_t body_end = close_begin > body_begin ? close_begin - 1 : body_begin;   // drop the newline before the fence
  code.source = std::string(text.substr(body_begin, body_end - body_begin));

  std::string_view open_line = text.substr(open_begin, open_end - open_begin);
  std::size_t tag_at = open_line.find("```") + 3;
  std::string tag;
  while (tag_at < open_line.size() && !std::isspace(static_cast<unsigned char>(open_line[tag_at])))
    tag += static_cast<char>(std::tolower(static_cast<unsigned char>(open_line[tag_at++])));
  code.fence_tag = tag;
  if (tag == "python" || tag == "python3" || tag == "py") code.language = Language::python;
  else if (tag == "cpp" || tag == "c++" || tag == "cc" || tag == "cxx") code.language = Language::cpp;
  else if (code.source.find("#include") != std::string::npos || code.source.find("int main") != std::string::npos)
    code.language = Language::cpp;
  else code.language = default_language;
  return code;
}

}  // namespace r1lab::code
