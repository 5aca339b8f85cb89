#include "reports/regression_gate.h"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>

#include "reports/text_escape.h"

namespace r1lab::reports {

namespace {

std::string task_of(const LoadedRun& run) { return run.results["task"]["name"].get<std::string>(); }

const nlohmann::json* find_metric(const nlohmann::json& results, const std::string& name) {
  for (const auto& metric : results["metrics"])
    if (metric["name"] == name) return &metric;
  return nullptr;
}

// Problem id -> score of one metric, from results.json "per_problem"; nullopt when the run has none.
std::optional<std::unordered_map<std::string, double>> per_problem_scores(const nlohmann::json& results,
                                                                          const std::string& metric) {
  if (!results.contains("per_problem")) return std::nullopt;
  const auto& table = results["per_problem"];
  if (!table.contains("id") || !table.contains(metric)) return std::nullopt;
  const auto& ids = table["id"];
  const auto& scores = table[metric];
  if (ids.size() != scores.size()) return std::nullopt;
  std::unordered_map<std::string, double> out;
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!scores[i].is_null()) out[ids[i].get<std::string>()] = scores[i].get<double>();
  return out;
}

// Fills drop's noise band for one metric: paired when both sides scored the same problems, else unpaired.
void compare(const LoadedRun& baseline, const LoadedRun& current, const nlohmann::json& base_metric,
             const nlohmann::json& current_metric, double z, GateLine& line) {
  line.baseline = base_metric["value"].get<double>() * 100;
  line.current = current_metric["value"].get<double>() * 100;
  line.drop = line.baseline - line.current;
  auto unpaired = [&](const std::string& why) {
    const double a = base_metric["stderr"].get<double>() * 100, b = current_metric["stderr"].get<double>() * 100;
    line.noise = z * std::sqrt(a * a + b * b);
    line.comparison = "unpaired: " + why;
  };
  auto before = per_problem_scores(baseline.results, line.metric);
  auto after = per_problem_scores(current.results, line.metric);
  if (!before || !after) return unpaired("no per-problem scores in " + std::string(!before ? "the baseline" : "the current run"));
  if (before->size() != after->size()) return unpaired(fmt::format("problem sets differ ({} vs {} problems)", before->size(), after->size()));
  std::vector<double> differences;
  differences.reserve(before->size());
  for (const auto& [id, score] : *before) {
    auto it = after->find(id);
    if (it == after->end()) return unpaired("problem sets differ ('" + id + "' only in the baseline)");
    differences.push_back((score - it->second) * 100);
  }
  if (differences.size() < 2) return unpaired("fewer than 2 problems");
  double mean = 0;
  for (double d : differences) mean += d;
  mean /= static_cast<double>(differences.size());
  double squares = 0;
  for (double d : differences) squares += (d - mean) * (d - mean);
  const double sd = std::sqrt(squares / static_cast<double>(differences.size() - 1));
  line.noise = z * sd / std::sqrt(static_cast<double>(differences.size()));
  line.comparison = fmt::format("paired, {} problems", differences.size());
}

}  // namespace

double two_sided_normal_quantile(double confidence) {
  if (!(confidence > 0 && confidence < 1)) throw std::invalid_argument(fmt::format("confidence {} is not in (0, 1)", confidence));
  // P(|Z| <= z) = erf(z / sqrt 2) grows with z: bisect.
  double low = 0, high = 40;
  for (int i = 0; i < 200; ++i) {
    double mid = (low + high) / 2;
    (std::erf(mid / std::sqrt(2.0)) < confidence ? low : high) = mid;
  }
  return (low + high) / 2;
}

GateDecision regression_gate(const std::vector<LoadedRun>& baseline, const std::vector<LoadedRun>& current,
                             const GateOptions& options) {
  GateDecision decision;
  decision.z = two_sided_normal_quantile(options.confidence);
  std::map<std::string, const LoadedRun*> baseline_by_task;
  for (const auto& run : baseline) {
    auto [it, added] = baseline_by_task.emplace(task_of(run), &run);
    if (!added)
      throw GateError(fmt::format("two baseline runs for task {}: {} and {}; give one baseline per task", task_of(run),
                                  it->second->source, run.source));
  }
  std::map<std::string, std::vector<const LoadedRun*>> current_by_task;
  for (const auto& run : current) {
    if (baseline_by_task.count(task_of(run))) current_by_task[task_of(run)].push_back(&run);
    else decision.ungated.push_back(run.source + " (" + task_of(run) + ")");
  }
  if (current_by_task.empty()) {
    std::string tasks;
    for (const auto& [task, run] : baseline_by_task) tasks += (tasks.empty() ? "" : ", ") + task;
    throw GateError("nothing to gate: no current run is of a baseline task (" + tasks +
                    "); give current runs of the same tasks as the baseline");
  }
  for (const auto& [task, base] : baseline_by_task) {
    auto runs = current_by_task.find(task);
    for (const auto& base_metric : base->results["metrics"]) {
      const std::string metric = base_metric["name"].get<std::string>();
      auto missing_line = [&](const std::string& current_run, const std::string& why) {
        GateLine line;
        line.task = task;
        line.metric = metric;
        line.baseline_run = base->source;
        line.current_run = current_run;
        line.baseline = base_metric["value"].get<double>() * 100;
        line.missing = true;
        line.failed = !options.allow_missing;
        line.comparison = why;
        decision.lines.push_back(line);
      };
      if (runs == current_by_task.end()) {
        missing_line("", "missing: no current run of this task");
        continue;
      }
      for (const LoadedRun* run : runs->second) {
        const nlohmann::json* current_metric = find_metric(run->results, metric);
        if (!current_metric) {
          missing_line(run->source, "missing: the current run has no " + metric);
          continue;
        }
        GateLine line;
        line.task = task;
        line.metric = metric;
        line.baseline_run = base->source;
        line.current_run = run->source;
        compare(*base, *run, base_metric, *current_metric, decision.z, line);
        line.failed = line.drop > options.max_drop_points && line.drop > line.noise;
        decision.lines.push_back(line);
      }
    }
  }
  for (const auto& line : decision.lines) decision.failed = decision.failed || line.failed;
  return decision;
}

std::string render_gate(const GateDecision& decision, const GateOptions& options, TableFormat format) {
  std::size_t regressions = 0, missing = 0;
  for (const auto& line : decision.lines) {
    regressions += line.failed && !line.missing;
    missing += line.missing;
  }
  const std::string rule = fmt::format(
      "a metric fails when drop = baseline − current > {:.2f} points and drop > the noise band ({:.0f}% two-sided, z = {:.2f}; "
      "paired over problems when both runs scored the same ones){}",
      options.max_drop_points, options.confidence * 100, decision.z,
      options.allow_missing ? "; missing metrics allowed" : "; a baseline metric missing from the current runs fails");
  const std::string verdict = decision.failed
      ? fmt::format("gate: FAILED ({} regression{}, {} missing)", regressions, regressions == 1 ? "" : "s", missing)
      : "gate: passed";
  auto status = [&](const GateLine& line) {
    if (line.missing) return std::string(line.failed ? "MISSING" : "missing (allowed)");
    return std::string(line.failed ? "REGRESSION" : "ok");
  };
  auto number = [](const GateLine& line, double value) { return line.missing ? std::string() : fmt::format("{:.2f}", value); };
  std::string out;
  switch (format) {
    case TableFormat::csv:
      out += "task,metric,baseline_run,current_run,baseline,current,drop,noise,comparison,verdict\n";
      for (const auto& line : decision.lines)
        out += fmt::format("{},{},{},{},{:.4f},{},{},{},{},{}\n", csv_escape(line.task), csv_escape(line.metric),
                           csv_escape(line.baseline_run), csv_escape(line.current_run), line.baseline,
                           line.missing ? "" : fmt::format("{:.4f}", line.current),
                           line.missing ? "" : fmt::format("{:.4f}", line.drop),
                           line.missing ? "" : fmt::format("{:.4f}", line.noise), csv_escape(line.comparison), status(line));
      out += "# " + verdict + "\n";   // a comment line: CSV readers given comment="#" skip it
      return out;
    case TableFormat::html:
      out += "<section class=\"gate\">\n<h2>Regression gate</h2>\n<p>" + html_escape(rule) + "</p>\n";
      out += "<table>\n<thead><tr><th>task</th><th>metric</th><th>baseline run</th><th>current run</th><th>baseline</th>"
             "<th>current</th><th>drop</th><th>noise</th><th>comparison</th><th>verdict</th></tr></thead>\n<tbody>\n";
      for (const auto& line : decision.lines)
        out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{}</td><td>{}</td>"
                           "<td>{}</td><td{}>{}</td></tr>\n",
                           html_escape(line.task), html_escape(line.metric), html_escape(line.baseline_run),
                           html_escape(line.current_run), line.baseline, number(line, line.current), number(line, line.drop),
                           number(line, line.noise), html_escape(line.comparison), line.failed ? " class=\"failed\"" : "",
                           status(line));
      out += "</tbody>\n</table>\n";
      for (const auto& run : decision.ungated) out += "<p>not gated (no baseline of its task): " + html_escape(run) + "</p>\n";
      out += "<p><strong>" + html_escape(verdict) + "</strong></p>\n</section>\n";
      return out;
    case TableFormat::markdown:
    case TableFormat::text:
      out += "gate: " + rule + "\n";
      out += "| task | metric | baseline run | current run | baseline | current | drop | noise | comparison | verdict |\n"
             "|---|---|---|---|---:|---:|---:|---:|---|---|\n";
      for (const auto& line : decision.lines)
        out += fmt::format("| {} | {} | {} | {} | {:.2f} | {} | {} | {} | {} | {} |\n", line.task, line.metric,
                           line.baseline_run, line.current_run, line.baseline, number(line, line.current),
                           number(line, line.drop), number(line, line.noise), line.comparison, status(line));
      for (const auto& run : decision.ungated) out += "not gated (no baseline of its task): " + run + "\n";
      out += verdict + "\n";
      return out;
  }
  return out;
}

}  // namespace r1lab::reports
