// reports/text_escape.h — text made safe for the report formats (HTML cells, CSV fields).
#pragma once

#include <string>

namespace r1lab::reports {

std::string html_escape(const std::string& s);   // <, >, &, "
std::string csv_escape(const std::string& s);    // quoted when it holds a comma, quote or newline

}  // namespace r1lab::reports
