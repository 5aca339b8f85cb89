// reports/results_table.h — side-by-side tables built only from results.json files.
//
// A row is one model (results.json "model"), a column one "<task>_<metric>" key; a cell shows the value
// in percent with its standard error. With a paper table, the paper's rows are added and, for a model
// whose name matches a paper row, a row of deltas (ours minus paper, in points).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1lab::reports {

enum class TableFormat { markdown, csv, html, text };
TableFormat table_format_from_name(const std::string& name);  // md, csv, html, text

struct Cell {
  double value = 0;          // percent (or a rating)
  double standard_error = 0; // same unit
  bool present = false;
};

struct Table {
  std::vector<std::string> columns;
  std::vector<std::string> row_names;
  std::vector<std::vector<Cell>> cells;
};

// Throws std::runtime_error naming the file when it is not a results.json of r1lab.
nlohmann::json load_results(const std::string& path);

Table build_table(const std::vector<nlohmann::json>& results, const std::optional<std::string>& paper_table_name);
std::string render_table(const Table& table, TableFormat format);

// One line per metric of one results.json, for the end of `r1lab score`.
std::string render_summary(const nlohmann::json& results);

}  // namespace r1lab::reports
