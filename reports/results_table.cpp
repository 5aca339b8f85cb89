#include "reports/results_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "reports/paper_tables.h"
#include "reports/text_escape.h"

namespace r1lab::reports {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string cell_text(const Cell& cell, bool with_error) {
  if (!cell.present) return "";
  if (with_error && cell.standard_error > 0) return fmt::format("{:.1f} ± {:.1f}", cell.value, cell.standard_error);
  return fmt::format("{:.1f}", cell.value);
}

}  // namespace

TableFormat table_format_from_name(const std::string& name) {
  if (name == "md" || name == "markdown") return TableFormat::markdown;
  if (name == "csv") return TableFormat::csv;
  if (name == "html") return TableFormat::html;
  if (name == "text") return TableFormat::text;
  throw std::invalid_argument("unknown --format '" + name + "'; use md, csv or html");
}

nlohmann::json load_results(const std::string& path) {
  std::string file = std::filesystem::is_directory(path) ? path + "/results.json" : path;
  std::ifstream probe(file);
  if (!probe) throw std::runtime_error(path + ": no results.json there (give a run directory or its results.json)");
  nlohmann::json results;
  try {
    results = nlohmann::json::parse(probe);
  } catch (const nlohmann::json::parse_error& error) {
    throw std::runtime_error(file + ": not valid JSON (" + error.what() + ")");
  }
  for (const char* key : {"task", "metrics", "model"})
    if (!results.contains(key)) throw std::runtime_error(file + ": missing \"" + std::string(key) + "\"; not an r1lab results.json");
  return results;
}

std::vector<LoadedRun> load_runs(const std::string& path, const std::string& label) {
  namespace fs = std::filesystem;
  fs::path given(path);
  std::vector<fs::path> sources;
  if (fs::is_directory(given) && !fs::exists(given / "results.json")) {
    // An eval run folder: one results.json per task folder.
    for (const auto& entry : fs::directory_iterator(given))
      if (entry.is_directory() && fs::exists(entry.path() / "results.json")) sources.push_back(entry.path());
    std::sort(sources.begin(), sources.end());
    if (sources.empty())
      throw std::runtime_error(path + ": no results.json there or in its task folders (give a run directory or a results.json)");
  } else {
    sources.push_back(fs::is_directory(given) ? given : given.parent_path());
  }
  // The folder the user named (an eval run's tasks share it).
  fs::path named = fs::is_directory(given) ? given : given.parent_path();
  std::string folder = fs::absolute(named).lexically_normal().filename().string();
  if (folder.empty()) folder = fs::absolute(named).lexically_normal().parent_path().filename().string();
  std::vector<LoadedRun> runs;
  for (const auto& source : sources) {
    LoadedRun run;
    run.source = source.string();
    run.results = load_results(fs::is_directory(given) ? source.string() : path);
    run.label = label.empty() ? run.results["model"].get<std::string>() + " (" + folder + ")" : label;
    runs.push_back(std::move(run));
  }
  return runs;
}

namespace {

// "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B" names the paper row "DeepSeek-R1-Distill-Qwen-7B".
bool names_paper_row(const std::string& model, const std::string& row) {
  std::string name = model;
  std::size_t slash = name.find_last_of('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  return lower(name) == lower(row);
}

}  // namespace

Table build_table(const std::vector<LoadedRun>& runs, const std::optional<PaperComparison>& comparison) {
  Table table;
  auto column_index = [&](const std::string& key) {
    auto it = std::find(table.columns.begin(), table.columns.end(), key);
    if (it != table.columns.end()) return static_cast<std::size_t>(it - table.columns.begin());
    table.columns.push_back(key);
    for (auto& row : table.cells) row.emplace_back();
    return table.columns.size() - 1;
  };
  auto row_index = [&](const std::string& name) {
    auto it = std::find(table.row_names.begin(), table.row_names.end(), name);
    if (it != table.row_names.end()) return static_cast<std::size_t>(it - table.row_names.begin());
    table.row_names.push_back(name);
    table.cells.emplace_back(table.columns.size());
    return table.row_names.size() - 1;
  };
  const nlohmann::ordered_json* paper = nullptr;   // rows in the paper's order
  if (comparison) {
    paper = &paper_table(comparison->table);
    for (const auto& column : (*paper)["columns"]) column_index(column.get<std::string>());
    if (!comparison->row.empty() && !(*paper)["rows"].contains(comparison->row)) {
      std::string names;
      for (const auto& [name, values] : (*paper)["rows"].items()) names += (names.empty() ? "" : ", ") + name;
      throw std::invalid_argument("--paper-row '" + comparison->row + "' is not a row of " + comparison->table + ": " + names);
    }
  }
  std::vector<std::string> models;   // per our row
  for (const auto& run : runs) {
    std::string task = run.results["task"]["name"].get<std::string>();
    std::size_t row = row_index(run.label);
    if (models.size() <= row) models.resize(row + 1);
    models[row] = run.results["model"].get<std::string>();
    for (const auto& metric : run.results["metrics"]) {
      std::size_t column = column_index(task + "_" + metric["name"].get<std::string>());
      table.cells[row][column] = {metric["value"].get<double>() * 100.0, metric["stderr"].get<double>() * 100.0, true};
    }
    // The mean response length beside the scores ("<task>_length_tokens", or _chars when counted in characters).
    if (run.results.contains("response_lengths") && run.results["response_lengths"]["all"].is_object()) {
      const auto& lengths = run.results["response_lengths"];
      const std::string unit = lengths["unit"] == "tokens" ? "tokens" : "chars";
      table.cells[row][column_index(task + "_length_" + unit)] = {lengths["all"]["mean"].get<double>(), 0, true};
    }
  }
  if (!paper) return table;
  std::size_t ours = table.row_names.size();
  for (const auto& [model, values] : (*paper)["rows"].items()) {
    std::size_t row = row_index(model + " (paper)");
    for (std::size_t i = 0; i < values.size(); ++i)
      table.cells[row][column_index((*paper)["columns"][i].get<std::string>())] = {values[i].get<double>(), 0, true};
  }
  for (std::size_t r = 0; r < ours; ++r) {
    for (const auto& [model, values] : (*paper)["rows"].items()) {
      if (comparison->row.empty() ? !names_paper_row(models[r], model) : model != comparison->row) continue;
      std::vector<Cell> delta(table.columns.size());
      for (std::size_t i = 0; i < values.size(); ++i) {
        std::size_t c = column_index((*paper)["columns"][i].get<std::string>());
        if (table.cells[r][c].present)
          delta[c] = {table.cells[r][c].value - values[i].get<double>(), table.cells[r][c].standard_error, true};
      }
      table.row_names.push_back(table.row_names[r] + " − " + model + " (paper), points");
      delta.resize(table.columns.size());
      table.cells.push_back(delta);
      break;
    }
  }
  return table;
}

std::string render_table(const Table& table, TableFormat format) {
  std::string out;
  switch (format) {
    case TableFormat::csv: {
      out += "model";
      for (const auto& c : table.columns) out += "," + csv_escape(c) + "," + csv_escape(c + "_stderr");
      out += "\n";
      for (std::size_t r = 0; r < table.row_names.size(); ++r) {
        out += csv_escape(table.row_names[r]);
        for (const auto& cell : table.cells[r])
          out += cell.present ? fmt::format(",{:.4f},{:.4f}", cell.value, cell.standard_error) : std::string(",,");
        out += "\n";
      }
      return out;
    }
    case TableFormat::html: {
      out += "<table>\n<thead><tr><th>model</th>";
      for (const auto& c : table.columns) out += "<th>" + html_escape(c) + "</th>";
      out += "</tr></thead>\n<tbody>\n";
      for (std::size_t r = 0; r < table.row_names.size(); ++r) {
        out += "<tr><td>" + html_escape(table.row_names[r]) + "</td>";
        for (const auto& cell : table.cells[r]) out += "<td>" + html_escape(cell_text(cell, true)) + "</td>";
        out += "</tr>\n";
      }
      return out + "</tbody>\n</table>\n";
    }
    case TableFormat::markdown:
    case TableFormat::text: {
      out += "| model |";
      for (const auto& c : table.columns) out += " " + c + " |";
      out += "\n|---|";
      for (std::size_t i = 0; i < table.columns.size(); ++i) out += "---:|";
      out += "\n";
      for (std::size_t r = 0; r < table.row_names.size(); ++r) {
        out += "| " + table.row_names[r] + " |";
        for (const auto& cell : table.cells[r]) out += " " + cell_text(cell, true) + " |";
        out += "\n";
      }
      return out;
    }
  }
  return out;
}

std::string render_summary(const nlohmann::json& results) {
  std::string out = fmt::format("{} on {} (v{}), {} problems x n={}{}\n", results["model"].get<std::string>(),
                                results["task"]["name"].get<std::string>(), results["task"]["version"].get<int>(),
                                results["problems"].get<std::size_t>(), results["n"].get<std::size_t>(),
                                results.value("partial", false) ? " (PARTIAL)" : "");
  for (const auto& metric : results["metrics"])
    out += fmt::format("  {:<22} {:6.2f} ± {:.2f}\n", metric["label"].get<std::string>(),
                       metric["value"].get<double>() * 100, metric["stderr"].get<double>() * 100);
  if (results.contains("verdict_counts")) {
    out += "  verdicts:";
    for (const auto& [kind, count] : results["verdict_counts"].items()) out += fmt::format(" {}={}", kind, count.get<long>());
    out += "\n";
  }
  if (results.contains("response_lengths") && results["response_lengths"]["all"].is_object()) {
    const auto& lengths = results["response_lengths"];
    const auto& all = lengths["all"];
    auto mean_of = [&](const char* key) {
      return lengths[key].is_object() ? fmt::format("{:.0f}", lengths[key]["mean"].get<double>()) : std::string("-");
    };
    out += fmt::format("  length ({}): mean {:.0f}, median {:.0f}, p90 {:.0f}, max {:.0f}; mean correct {}, other {}",
                       lengths["unit"].get<std::string>(), all["mean"].get<double>(), all["median"].get<double>(),
                       all["p90"].get<double>(), all["max"].get<double>(), mean_of("correct"), mean_of("other"));
    if (lengths["truncation_rate"].is_number()) out += fmt::format("; truncated {:.1f}%", 100 * lengths["truncation_rate"].get<double>());
    out += fmt::format("; no answer {:.1f}%\n", 100 * lengths["no_answer_rate"].get<double>());
  }
  if (results.contains("hints"))
    for (const auto& hint : results["hints"]) out += "  hint: " + hint.get<std::string>() + "\n";
  if (results.contains("task_results") && results["task_results"].is_object()) {
    const auto& extra = results["task_results"];
    if (extra.contains("execution_status_counts")) {
      out += "  executions:";
      for (const auto& [status, count] : extra["execution_status_counts"].items()) out += fmt::format(" {}={}", status, count.get<long>());
      out += fmt::format(" (sandbox: {})\n", extra.value("sandbox", "?"));
    }
    if (extra.contains("tests")) out += "  tests: " + extra["tests"].get<std::string>() + "\n";
    if (extra.contains("interactive_excluded") && extra["interactive_excluded"].get<long>() > 0)
      out += fmt::format("  interactive problems left out: {}\n", extra["interactive_excluded"].get<long>());
    if (extra.contains("rating") && extra["rating"].value("available", false))
      out += fmt::format("  Codeforces rating {:.0f} ± {:.0f} over {} contests{}\n", extra["rating"]["rating"].get<double>(),
                         extra["rating"]["stderr"].get<double>(), extra["rating"]["contests"].size(),
                         extra["rating"].contains("percentile")
                             ? fmt::format(", percentile {:.1f} (CodeElo population)", extra["rating"]["percentile"].get<double>())
                             : "");
  }
  return out;
}

}  // namespace r1lab::reports
