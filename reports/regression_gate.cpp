#include "reports/regression_gate.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

namespace r1lab::reports {

namespace {
struct Measured { double value, standard_error; };

std::map<std::string, Measured> metrics_by_key(const std::vector<nlohmann::json>& results) {
  std::map<std::string, Measured> out;
  for (const auto& result : results)
    for (const auto& metric : result["metrics"])
      out[result["task"]["name"].get<std::string>() + "_" + metric["name"].get<std::string>()] = {
          metric["value"].get<double>() * 100, metric["stderr"].get<double>() * 100};
  return out;
}
}  // namespace

GateDecision regression_gate(const std::vector<nlohmann::json>& baseline, const std::vector<nlohmann::json>& current,
                             double max_drop_points) {
  GateDecision decision;
  auto before = metrics_by_key(baseline);
  auto after = metrics_by_key(current);
  for (const auto& [key, base] : before) {
    auto it = after.find(key);
    if (it == after.end()) continue;
    GateLine line;
    line.key = key;
    line.baseline = base.value;
    line.current = it->second.value;
    line.drop = base.value - it->second.value;
    line.noise = 1.96 * std::sqrt(base.standard_error * base.standard_error +
                                  it->second.standard_error * it->second.standard_error);
    line.failed = line.drop > max_drop_points && line.drop > line.noise;
    decision.failed = decision.failed || line.failed;
    decision.lines.push_back(line);
  }
  return decision;
}

std::string render_gate(const GateDecision& decision, double max_drop_points) {
  std::string out = fmt::format("gate: fail when drop > {:.2f} points and drop > 1.96·sqrt(se_b²+se_c²)\n", max_drop_points);
  out += "| metric | baseline | current | drop | noise | verdict |\n|---|---:|---:|---:|---:|---|\n";
  for (const auto& line : decision.lines)
    out += fmt::format("| {} | {:.2f} | {:.2f} | {:+.2f} | {:.2f} | {} |\n", line.key, line.baseline, line.current,
                       -line.drop, line.noise, line.failed ? "REGRESSION" : "ok");
  if (decision.lines.empty()) out += "(no metric in common between baseline and current)\n";
  out += decision.failed ? "gate: FAILED\n" : "gate: passed\n";
  return out;
}

}  // namespace r1lab::reports
