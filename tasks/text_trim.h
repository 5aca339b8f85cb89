// tasks/text_trim.h — strip leading and trailing ASCII whitespace (shared by readers and graders).
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace r1lab::tasks {

inline std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

}  // namespace r1lab::tasks
