// tasks/csv_reader.h — RFC 4180 CSV (quoted cells, doubled quotes, newlines inside quotes).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace r1lab::tasks {

struct CsvRow {
  std::size_t line = 0;                      // line where the record starts (1-based, header is line 1)
  std::map<std::string, std::string> cells;  // by header name
};

// Throws DataError naming the file and line for an unterminated quote or a row of the wrong width.
std::vector<CsvRow> read_csv(const std::filesystem::path& path);

}  // namespace r1lab::tasks
