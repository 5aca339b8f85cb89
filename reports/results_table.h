// reports/results_table.h — side-by-side tables built only from results.json files.
//
// A row is one run as the user named it (an eval run folder with all its tasks, or a task folder), labelled
// "<model> (<folder>)" or by --label, so that two runs of one model stay two rows; a column is one
// "<task>_<metric>" key; a cell shows the value in percent with its standard error, and
// "<task>_length_tokens" (or _chars) the mean response length. With a paper table,
// the paper's rows are added, and a row of deltas (ours minus paper, in points, naming the paper row) for
// each of our rows whose model is exactly a paper row's name (an "org/" prefix ignored, any case), or for
// every row against the paper row the user names.
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

// One task's results of one run: where it came from (the folder holding results.json), the row label.
struct LoadedRun {
  std::string source;
  std::string label;
  nlohmann::json results;
};

// Throws std::runtime_error naming the file when it is not a results.json of r1lab.
nlohmann::json load_results(const std::string& path);

// A results.json, a folder holding one (score --out, eval's <out>/<task>), or an eval run folder: every
// <task>/results.json in it, in task order. The label is "<model> (<the folder's name>)" unless given.
std::vector<LoadedRun> load_runs(const std::string& path, const std::string& label = "");

struct PaperComparison {
  std::string table;              // table2, table5, table6
  std::string row;                // compare every run with this paper row; empty: exact model-name matches
};

Table build_table(const std::vector<LoadedRun>& runs, const std::optional<PaperComparison>& paper);
std::string render_table(const Table& table, TableFormat format);

// One line per metric of one results.json, for the end of `r1lab score`.
std::string render_summary(const nlohmann::json& results);

}  // namespace r1lab::reports
