#include "tasks/csv_reader.h"

#include <fstream>
#include <sstream>

#include "tasks/data_dir.h"

namespace r1lab::tasks {

std::vector<CsvRow> read_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path.string() + ": cannot open for reading");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();

  std::vector<std::vector<std::string>> records;
  std::vector<std::size_t> record_lines;
  std::vector<std::string> fields;
  std::string cell;
  bool quoted = false;
  std::size_t line = 1, record_line = 1, quote_line = 0;
  auto end_record = [&] {
    fields.push_back(std::move(cell));
    cell.clear();
    if (!(fields.size() == 1 && fields[0].empty())) {
      records.push_back(std::move(fields));
      record_lines.push_back(record_line);
    }
    fields.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      quote_line = line;
    } else if (c == ',') {
      fields.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      end_record();
      ++line;
      record_line = line;
    } else if (c != '\r') {
      cell += c;
    }
  }
  if (quoted) throw DataError(path.string() + ":" + std::to_string(quote_line) + ": quote opened here is never closed");
  if (!cell.empty() || !fields.empty()) end_record();
  if (records.empty()) throw DataError(path.string() + ": empty CSV (expected a header row)");

  const auto& header = records[0];
  std::vector<CsvRow> rows;
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != header.size())
      throw DataError(path.string() + ":" + std::to_string(record_lines[r]) + ": " + std::to_string(records[r].size()) +
                      " cells, but the header has " + std::to_string(header.size()));
    CsvRow row;
    row.line = record_lines[r];
    for (std::size_t c = 0; c < header.size(); ++c) row.cells[header[c]] = records[r][c];
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace r1lab::tasks
