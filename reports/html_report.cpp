#include "reports/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "reports/paper_tables.h"
#include "reports/svg_plot.h"
#include "reports/text_escape.h"

namespace r1lab::reports {

namespace {

// ---- reading results.json: older files lack newer fields, so every read tolerates absence ----

const nlohmann::json* member(const nlohmann::json* object, const std::string& key) {
  if (!object || !object->is_object()) return nullptr;
  auto it = object->find(key);
  return it == object->end() || it->is_null() ? nullptr : &*it;
}

std::optional<double> number_member(const nlohmann::json* object, const std::string& key) {
  const nlohmann::json* value = member(object, key);
  if (!value || !value->is_number()) return std::nullopt;
  return value->get<double>();
}

std::string string_member(const nlohmann::json* object, const std::string& key) {
  const nlohmann::json* value = member(object, key);
  return value && value->is_string() ? value->get<std::string>() : std::string();
}

std::vector<double> numbers(const nlohmann::json* array) {
  std::vector<double> out;
  if (!array || !array->is_array()) return out;
  for (const auto& value : *array) out.push_back(value.is_number() ? value.get<double>() : std::nan(""));
  return out;
}

std::string task_of(const LoadedRun& run) {
  std::string name = string_member(member(&run.results, "task"), "name");
  return name.empty() ? "?" : name;
}

// "0.6", "32768": numbers as a person writes them.
std::string plain_number(double value) {
  if (value == std::floor(value) && std::abs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fmt::format("{:g}", value);
}

std::string percent_text(double fraction) { return fmt::format("{:.1f}%", fraction * 100); }

// "table5" -> "Table 5", as the paper names it.
std::string paper_table_title(const std::string& name) {
  return name.rfind("table", 0) == 0 ? "Table " + name.substr(5) : name;
}

// ---- the page's parts ----

constexpr const char* kStyle = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; background: #fff;
       margin: 0; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
h3 { font-size: 16px; margin: 24px 0 6px; }
.subtitle, .muted, figcaption, footer { color: #666; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13.5px; margin: 8px 0; }
th, td { border: 1px solid #d9d9d9; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #f2f4f7; }
td.number { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.results thead th { text-align: right; }
.results thead th:first-child { text-align: left; }
.results .metric { display: block; font-weight: normal; color: #555; }
.results .n { display: block; font-size: 11px; color: #888; }
.results tr.paper td { background: #fafafa; color: #555; font-style: italic; }
.results tr.delta td { color: #555; }
.results td.better { color: #1a7f37; }
.results td.worse { color: #b42318; }
.source { display: block; font-size: 11px; color: #888; word-break: break-all; }
.flag { display: inline-block; margin: 3px 3px 0 0; padding: 0 6px; border-radius: 4px; font-size: 12px; background: #eef2f7; }
.flag.warn { background: #fff1d6; color: #7a4b00; }
.banner { margin: 16px 0; padding: 10px 14px; border-radius: 6px; font-weight: 600; }
.banner.failed { background: #fde8e7; color: #9b1c1c; border: 1px solid #f5b5b0; }
.banner.passed { background: #e7f6ec; color: #1a5e33; border: 1px solid #a9dcb9; }
figure { margin: 14px 0 26px; }
figure svg { display: block; width: 100%; max-width: 720px; height: auto; }
figcaption { max-width: 720px; margin-top: 4px; font-size: 13px; }
/* The gate's run paths may break anywhere, so that its numbers and verdicts stay on one line at 800 px. */
.gate td { white-space: nowrap; }
.gate td:nth-child(3), .gate td:nth-child(4) { white-space: normal; overflow-wrap: anywhere; min-width: 8em; }
.gate td:nth-child(9) { white-space: normal; min-width: 9em; }
.gate td.failed { color: #b42318; font-weight: 600; }
footer { margin-top: 40px; font-size: 12px; }
@media (max-width: 900px) { main { padding: 16px 14px 32px; } table { font-size: 12.5px; } th, td { padding: 3px 5px; } }
)css";

std::string format_date(const std::string& created_at) {
  // "2025-01-31T09:30:12Z" -> "2025-01-31 09:30 UTC"; anything else as written.
  if (created_at.size() == 20 && created_at[10] == 'T' && created_at.back() == 'Z')
    return created_at.substr(0, 10) + " " + created_at.substr(11, 5) + " UTC";
  return created_at;
}

std::string sampling_text(const nlohmann::json& results) {
  if (const nlohmann::json* generation = member(&results, "generation")) {
    std::string out;
    auto add = [&](const std::string& name, std::optional<double> value) {
      if (value) out += (out.empty() ? "" : ", ") + name + " " + plain_number(*value);
    };
    add("temperature", number_member(generation, "temperature"));
    add("top_p", number_member(generation, "top_p"));
    add("max_tokens", number_member(generation, "max_tokens"));
    add("seed", number_member(generation, "seed") ? number_member(generation, "seed") : number_member(generation, "sampling_seed"));
    return out.empty() ? "generated (parameters not recorded)" : out;
  }
  if (const nlohmann::json* file = member(&results, "samples_file")) {
    // The last two parts of the path name the model and the file in the usual layouts.
    std::string path = string_member(file, "path");
    std::size_t cut = path.find_last_of('/');
    if (cut != std::string::npos && cut > 0) cut = path.find_last_of('/', cut - 1);
    std::string shown = cut == std::string::npos ? path : "…" + path.substr(cut);
    std::string format = string_member(file, "format");
    return "scored from " + shown + (format.empty() ? "" : " (" + format + ")");
  }
  return "not recorded";
}

std::vector<std::pair<std::string, bool>> run_flags(const nlohmann::json& results) {   // text, is a warning
  std::vector<std::pair<std::string, bool>> flags;
  if (const nlohmann::json* partial = member(&results, "partial"); partial && partial->is_boolean() && partial->get<bool>()) {
    const nlohmann::json* detail = member(&results, "partial_detail");
    auto fewest = number_member(detail, "fewest_samples"), most = number_member(detail, "most_samples");
    flags.emplace_back(fewest && most ? fmt::format("partial: some problems have {:g} of {:g} samples", *fewest, *most) : "partial run", true);
  }
  if (auto limit = number_member(&results, "problem_limit"))
    flags.emplace_back(fmt::format("limited: first {:g} problems only", *limit), true);
  const nlohmann::json* dataset = member(member(&results, "task"), "dataset");
  if (const nlohmann::json* known = member(dataset, "matches_known"); known && known->is_boolean() && !known->get<bool>())
    flags.emplace_back("dataset differs from the known copy", true);
  if (const nlohmann::json* hints = member(&results, "hints"); hints && hints->is_array())
    for (const auto& hint : *hints)
      if (hint.is_string()) flags.emplace_back("hint: " + hint.get<std::string>(), false);
  return flags;
}

std::string render_run_details(const std::vector<LoadedRun>& runs) {
  std::string out = "<h2>Runs</h2>\n<div class=\"scroll\"><table class=\"runs\">\n<thead><tr><th>run</th><th>task</th><th>model</th>"
                    "<th>date</th><th>sampling</th><th>n</th><th>problems</th><th>r1lab</th></tr></thead>\n<tbody>\n";
  for (const auto& run : runs) {
    const nlohmann::json& results = run.results;
    auto count = [&](const char* key) {
      auto value = number_member(&results, key);
      return value ? plain_number(*value) : std::string("?");
    };
    const nlohmann::json* version = member(&results, "r1lab");
    std::string r1lab = string_member(version, "version");
    std::string sha = string_member(version, "git_sha").substr(0, 10);
    if (!sha.empty()) r1lab += (r1lab.empty() ? "" : " ") + ("(" + sha + ")");
    std::string flags;
    for (const auto& [text, warning] : run_flags(results))
      flags += std::string("<span class=\"flag") + (warning ? " warn" : "") + "\">" + html_escape(text) + "</span>";
    // Warnings sit under the run's name, where a reader of the row cannot miss them.
    out += fmt::format("<tr><td>{}<span class=\"source\">{}</span>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                       "<td class=\"number\">{}</td><td class=\"number\">{}</td><td>{}</td></tr>\n",
                       html_escape(run.label), html_escape(run.source), flags, html_escape(task_of(run)),
                       html_escape(string_member(&results, "model")), html_escape(format_date(string_member(&results, "created_at"))),
                       html_escape(sampling_text(results)), count("n"), count("problems"), html_escape(r1lab.empty() ? "?" : r1lab));
  }
  return out + "</tbody>\n</table></div>\n";
}

// "math500_pass@1" -> {"math500", "pass@1"}: the longest task name of ours that prefixes the key, else the
// last '_' (paper columns of tasks we did not run: "codeforces_rating").
std::pair<std::string, std::string> split_column(const std::string& column, const std::set<std::string>& tasks) {
  std::string best;
  for (const auto& task : tasks)
    if (column.size() > task.size() + 1 && column.compare(0, task.size() + 1, task + "_") == 0 && task.size() > best.size()) best = task;
  if (!best.empty()) return {best, column.substr(best.size() + 1)};
  std::size_t cut = column.find_last_of('_');
  if (cut == std::string::npos) return {column, ""};
  return {column.substr(0, cut), column.substr(cut + 1)};
}

std::string render_results_table(const Table& table, const std::vector<LoadedRun>& runs) {
  std::set<std::string> tasks, our_rows;
  // n per (row, column): the samples per problem behind each of our cells.
  std::map<std::pair<std::string, std::string>, std::string> samples_per_problem;
  for (const auto& run : runs) {
    tasks.insert(task_of(run));
    our_rows.insert(run.label);
    const nlohmann::json* metrics = member(&run.results, "metrics");
    if (!metrics || !metrics->is_array()) continue;
    for (const auto& metric : *metrics) {
      auto n = number_member(&metric, "n");
      if (!n) n = number_member(&run.results, "n");
      if (n) samples_per_problem[{run.label, task_of(run) + "_" + string_member(&metric, "name")}] = plain_number(*n);
    }
  }
  enum class RowKind { ours, paper, delta };
  auto kind_of = [&](const std::string& row) {
    if (our_rows.count(row)) return RowKind::ours;
    const std::string paper_suffix = " (paper)";
    if (row.size() > paper_suffix.size() && row.compare(row.size() - paper_suffix.size(), paper_suffix.size(), paper_suffix) == 0)
      return RowKind::paper;
    return RowKind::delta;
  };

  std::string out = "<div class=\"scroll\"><table class=\"results\">\n<thead><tr><th>row</th>";
  std::vector<std::string> metric_of_column;
  for (const auto& column : table.columns) {
    auto [task, metric] = split_column(column, tasks);
    if (metric == "length_tokens") metric = "mean length, tokens";
    else if (metric == "length_chars") metric = "mean length, chars";
    metric_of_column.push_back(metric);
    out += "<th>" + html_escape(task) + "<span class=\"metric\">" + html_escape(metric) + "</span></th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < table.row_names.size(); ++r) {
    const std::string& row = table.row_names[r];
    const RowKind kind = kind_of(row);
    out += std::string("<tr class=\"") + (kind == RowKind::ours ? "ours" : kind == RowKind::paper ? "paper" : "delta") + "\"><td>" +
           html_escape(row) + "</td>";
    for (std::size_t c = 0; c < table.columns.size() && c < table.cells[r].size(); ++c) {
      const Cell& cell = table.cells[r][c];
      if (!cell.present) {
        out += "<td class=\"number\"></td>";
        continue;
      }
      // Lengths and ratings are whole numbers; scores are percent with one decimal.
      const bool whole = metric_of_column[c].rfind("mean length", 0) == 0 || metric_of_column[c] == "rating";
      std::string text = kind == RowKind::delta ? fmt::format("{:+.1f}", cell.value)
                         : whole               ? fmt::format("{:.0f}", cell.value)
                                               : fmt::format("{:.1f}", cell.value);
      if (cell.standard_error > 0) text += fmt::format(" ± {:.1f}", cell.standard_error);
      std::string css = "number";
      if (kind == RowKind::delta && cell.value != 0) css += cell.value > 0 ? " better" : " worse";
      std::string n;
      if (kind == RowKind::ours)
        if (auto it = samples_per_problem.find({row, table.columns[c]}); it != samples_per_problem.end())
          n = "<span class=\"n\">n=" + it->second + "</span>";
      out += "<td class=\"" + css + "\">" + html_escape(text) + n + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table></div>\n";
  out += "<p>Scores are percent of problems. ± is one standard error of the mean over problems (the sample standard deviation "
         "of the per-problem scores, ddof 1, over √problems); n under a value is the number of samples per problem. pass@k is "
         "the unbiased estimate from n samples; cons@n the majority vote of the n samples. Mean lengths are per sample.</p>\n";
  return out;
}

std::string render_paper_note(const PaperComparison& paper) {
  const nlohmann::ordered_json& table = paper_table(paper.table);
  const std::string table_name = paper_table_title(paper.table);
  std::string out = "<p>Rows marked (paper) are the numbers published in the DeepSeek-R1 paper, " + html_escape(table_name) +
                    ", without standard errors. A row “… − … (paper), points” is ours minus that paper row, in percentage "
                    "points, with our standard error; green is above the paper, red below.</p>\n";
  const std::string note = table.contains("note") && table["note"].is_string() ? table["note"].get<std::string>() : "";
  if (!note.empty()) out += "<p class=\"muted\">Note on " + html_escape(table_name) + ": " + html_escape(note) + "</p>\n";
  return out;
}

// ---- plots ----

struct CurvePoint {
  double k, value, standard_error;
};

std::vector<CurvePoint> read_curve(const nlohmann::json& results, const std::string& name) {
  std::vector<CurvePoint> points;
  const nlohmann::json* curve = member(member(&results, "curves"), name);
  if (!curve || !curve->is_array()) return points;
  for (const auto& point : *curve) {
    auto k = number_member(&point, "k"), value = number_member(&point, "value");
    if (k && value) points.push_back({*k, *value, number_member(&point, "stderr").value_or(0)});
  }
  return points;
}

svg::LineSeries curve_series(const std::string& name, const std::string& color, bool dashed, const std::vector<CurvePoint>& points) {
  svg::LineSeries series{name, color, dashed, {}, {}, {}};
  for (const auto& point : points) {
    series.x.push_back(point.k);
    series.y.push_back(point.value * 100);
    series.error.push_back(point.standard_error * 100);
  }
  return series;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

using ColorOf = std::function<std::string(const LoadedRun&)>;

std::string pass_at_k_figure(const std::string& task, const std::vector<const LoadedRun*>& runs, const ColorOf& color_of,
                             std::vector<std::string>& notes) {
  svg::LineChart chart{task + ": pass@k and cons@k over k", "k (samples per problem, log2 scale)", "percent of problems", true, 0, 100, {}};
  std::vector<std::string> without_curves;
  std::size_t most_points = 0;
  for (const LoadedRun* run : runs) {
    auto pass = read_curve(run->results, "pass@k"), cons = read_curve(run->results, "cons@k");
    if (pass.empty() && cons.empty()) {
      without_curves.push_back(run->label);
      continue;
    }
    if (!pass.empty()) chart.series.push_back(curve_series(run->label + " pass@k", color_of(*run), false, pass));
    if (!cons.empty()) chart.series.push_back(curve_series(run->label + " cons@k", color_of(*run), true, cons));
    most_points = std::max({most_points, pass.size(), cons.size()});
  }
  if (chart.series.empty()) {
    notes.push_back("No pass@k curves: these results.json files have no \"curves\" (written by an older r1lab).");
    return "";
  }
  if (most_points < 2) {
    notes.push_back("No pass@k curves: a curve needs n > 1 samples per problem, and these runs have n = 1.");
    return "";
  }
  if (!without_curves.empty()) notes.push_back("No pass@k curve for " + join(without_curves) + " (its results.json has no \"curves\").");
  return "<figure class=\"plot pass-at-k\">\n" + svg::render_line_chart(chart) +
         "<figcaption>Solid: pass@k, the unbiased estimate from n samples per problem; dashed: cons@k, the majority vote of k "
         "samples. Shaded: ± one standard error over problems.</figcaption>\n</figure>\n";
}

std::string length_stats_text(const nlohmann::json* lengths, const std::string& key, const std::string& name) {
  const nlohmann::json* stats = member(lengths, key);
  auto count = number_member(stats, "count"), mean = number_member(stats, "mean"), median = number_member(stats, "median"),
       p90 = number_member(stats, "p90");
  if (!count || !mean) return name + ": none";
  std::string out = fmt::format("{}: {:g} samples, mean {:.0f}", name, *count, *mean);
  if (median) out += fmt::format(", median {:.0f}", *median);
  if (p90) out += fmt::format(", p90 {:.0f}", *p90);
  return out;
}

std::string length_histogram_figure(const LoadedRun& run, std::vector<std::string>& without_histogram) {
  const nlohmann::json* lengths = member(&run.results, "response_lengths");
  const nlohmann::json* histogram = member(lengths, "histogram");
  std::vector<double> edges = numbers(member(histogram, "edges")), correct = numbers(member(histogram, "correct")),
                      other = numbers(member(histogram, "other"));
  const bool whole = edges.size() >= 2 && correct.size() + 1 == edges.size() && other.size() + 1 == edges.size() &&
                     std::is_sorted(edges.begin(), edges.end()) &&
                     std::all_of(edges.begin(), edges.end(), [](double e) { return std::isfinite(e); });
  if (!whole) {
    without_histogram.push_back(run.label);
    return "";
  }
  const std::string unit = string_member(lengths, "unit").empty() ? "characters" : string_member(lengths, "unit");
  double correct_total = 0, other_total = 0;
  for (double count : correct) correct_total += std::isfinite(count) ? count : 0;
  for (double count : other) other_total += std::isfinite(count) ? count : 0;
  svg::Histogram chart{"Response length: " + run.label,
                       "response length (" + unit + ")",
                       "samples",
                       edges,
                       {{fmt::format("correct ({:g})", correct_total), "#3a923a", correct},
                        {fmt::format("other: wrong, no answer, unfinished ({:g})", other_total), "#d6604d", other}}};
  std::string caption = length_stats_text(lengths, "correct", "Correct") + "; " + length_stats_text(lengths, "other", "other") + ".";
  if (auto truncated = number_member(lengths, "truncation_rate")) caption += " Stopped at the token limit: " + percent_text(*truncated) + ".";
  if (auto no_answer = number_member(lengths, "no_answer_rate")) caption += " No answer: " + percent_text(*no_answer) + ".";
  // The bins stop near the 99th percentile (metrics/length_stats.h): say where the longest went.
  if (auto beyond = number_member(histogram, "beyond_last_edge"); beyond && *beyond > 0)
    caption += fmt::format(" The last bin also holds the {:g} longer than {:g}.", *beyond, edges.back());
  return "<figure class=\"plot length-histogram\">\n" + svg::render_histogram(chart) + "<figcaption>" + html_escape(caption) +
         "</figcaption>\n</figure>\n";
}

// Group names as people sort them: "2" before "10", otherwise alphabetical.
bool group_before(const std::string& a, const std::string& b) {
  char* a_end = nullptr;
  char* b_end = nullptr;
  const double a_number = std::strtod(a.c_str(), &a_end), b_number = std::strtod(b.c_str(), &b_end);
  const bool a_numeric = !a.empty() && *a_end == '\0', b_numeric = !b.empty() && *b_end == '\0';
  if (a_numeric && b_numeric && a_number != b_number) return a_number < b_number;
  if (a_numeric != b_numeric) return a_numeric;
  return a < b;
}

std::string breakdown_figures(const std::string& task, const std::vector<const LoadedRun*>& runs, const ColorOf& color_of) {
  std::set<std::string> labels;
  for (const LoadedRun* run : runs)
    if (const nlohmann::json* breakdowns = member(&run->results, "breakdowns"); breakdowns && breakdowns->is_object())
      for (const auto& [label, groups] : breakdowns->items())
        if (groups.is_object() && !groups.empty()) labels.insert(label);
  std::string out;
  for (const auto& label : labels) {
    std::vector<const LoadedRun*> with_label;
    std::vector<std::string> group_names;
    for (const LoadedRun* run : runs) {
      const nlohmann::json* groups = member(member(&run->results, "breakdowns"), label);
      if (!groups || !groups->is_object()) continue;
      with_label.push_back(run);
      for (const auto& [group, stats] : groups->items())
        if (std::find(group_names.begin(), group_names.end(), group) == group_names.end()) group_names.push_back(group);
    }
    std::sort(group_names.begin(), group_names.end(), group_before);
    svg::BarChart chart{task + ": pass@1 by " + label, "pass@1, percent of problems (± one standard error)", {}, {}, {}, 100};
    for (const LoadedRun* run : with_label) {
      chart.series_names.push_back(run->label);
      chart.series_colors.push_back(color_of(*run));
    }
    for (const auto& group : group_names) {
      svg::BarGroup bars{group, {}, {}};
      std::set<double> problem_counts;
      for (const LoadedRun* run : with_label) {
        const nlohmann::json* stats = member(member(member(&run->results, "breakdowns"), label), group);
        auto value = number_member(stats, "pass@1");
        bars.values.push_back(value ? *value * 100 : std::nan(""));
        bars.errors.push_back(number_member(stats, "stderr").value_or(0) * 100);
        if (auto problems = number_member(stats, "problems")) problem_counts.insert(*problems);
      }
      // "level 3", not a bare "3".
      if (!group.empty() && std::isdigit(static_cast<unsigned char>(group[0]))) bars.name = label + " " + group;
      // The group's size when every run agrees on it (the usual case: the same problems).
      if (problem_counts.size() == 1) bars.name += fmt::format(" ({:g})", *problem_counts.begin());
      chart.groups.push_back(bars);
    }
    out += "<figure class=\"plot breakdown\">\n" + svg::render_bar_chart(chart) + "<figcaption>" +
           html_escape("In brackets: problems in the group. Whiskers: ± one standard error over the group's problems.") +
           "</figcaption>\n</figure>\n";
  }
  return out;
}

std::string render_plots(const std::vector<LoadedRun>& runs, const ColorOf& color_of) {
  std::vector<std::string> tasks;
  for (const auto& run : runs)
    if (std::find(tasks.begin(), tasks.end(), task_of(run)) == tasks.end()) tasks.push_back(task_of(run));
  std::string out;
  for (const auto& task : tasks) {
    std::vector<const LoadedRun*> task_runs;
    for (const auto& run : runs)
      if (task_of(run) == task) task_runs.push_back(&run);
    std::vector<std::string> notes, without_histogram;
    std::string figures;
    std::string curves = pass_at_k_figure(task, task_runs, color_of, notes);
    figures += curves;
    std::string histograms;
    for (const LoadedRun* run : task_runs) histograms += length_histogram_figure(*run, without_histogram);
    if (!histograms.empty()) figures += "<h3>Response lengths, correct and other answers</h3>\n" + histograms;
    if (!without_histogram.empty())
      notes.push_back("No response-length histogram for " + join(without_histogram) +
                      " (its results.json has no \"response_lengths\".\"histogram\").");
    std::string breakdowns = breakdown_figures(task, task_runs, color_of);
    if (!breakdowns.empty()) figures += "<h3>pass@1 by group</h3>\n" + breakdowns;
    // What is not drawn comes first, so a reader looking for a plot learns at once why it is missing.
    out += "<h2>Plots: " + html_escape(task) + "</h2>\n";
    for (const auto& note : notes) out += "<p class=\"muted\">" + html_escape(note) + "</p>\n";
    out += figures;
  }
  return out;
}

}  // namespace

std::string render_html_report(const HtmlReportInput& input) {
  // One colour per run the user named (its label), the same in every chart.
  std::vector<std::string> labels, tasks;
  for (const auto& run : input.runs) {
    if (std::find(labels.begin(), labels.end(), run.label) == labels.end()) labels.push_back(run.label);
    if (std::find(tasks.begin(), tasks.end(), task_of(run)) == tasks.end()) tasks.push_back(task_of(run));
  }
  ColorOf color_of = [&labels](const LoadedRun& run) {
    return svg::series_color(static_cast<std::size_t>(std::find(labels.begin(), labels.end(), run.label) - labels.begin()));
  };
  const std::string title = fmt::format("r1lab report: {} ({} run{})", join(tasks), labels.size(), labels.size() == 1 ? "" : "s");

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
                    html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  out += "<h1>" + html_escape(title) + "</h1>\n";
  std::string subtitle = "Runs: " + join(labels) + ".";
  if (input.paper) subtitle += " Compared with the DeepSeek-R1 paper, " + paper_table_title(input.paper->table) + ".";
  out += "<p class=\"subtitle\">" + html_escape(subtitle) + "</p>\n";
  if (input.gate)
    out += input.gate->decision.failed
               ? "<p class=\"banner failed\">Regression gate: FAILED (see the gate below)</p>\n"
               : "<p class=\"banner passed\">Regression gate: passed</p>\n";

  out += render_run_details(input.runs);
  out += "<h2>Results</h2>\n" + render_results_table(input.table, input.runs);
  if (input.paper) out += render_paper_note(*input.paper);
  if (input.gate) out += "<div class=\"scroll\">" + render_gate(input.gate->decision, input.gate->options, TableFormat::html) + "</div>\n";
  out += render_plots(input.runs, color_of);
  out += "<footer>Made by " + html_escape(input.made_by.empty() ? std::string("r1lab") : input.made_by) +
         " from results.json files only; this page loads nothing from the network.</footer>\n";
  return out + "</main>\n</body>\n</html>\n";
}

}  // namespace r1lab::reports
