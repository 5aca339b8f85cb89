// reports/regression_gate.h — decide whether a run regressed against a baseline, beyond noise.
//
// Rule, per metric present in both results (same task and metric name):
//   drop  = (baseline - current) in percentage points
//   noise = 1.96 * sqrt(se_baseline^2 + se_current^2) in points (a two-sided 95% band on the difference)
//   the metric fails when drop > max_drop AND drop > noise.
// So a CI gate fails only on a drop that is both large enough to matter and unlikely to be sampling noise.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1lab::reports {

struct GateLine {
  std::string key;        // "<task>_<metric>"
  double baseline = 0, current = 0, drop = 0, noise = 0;  // points
  bool failed = false;
};

struct GateDecision {
  std::vector<GateLine> lines;
  bool failed = false;
};

GateDecision regression_gate(const std::vector<nlohmann::json>& baseline, const std::vector<nlohmann::json>& current,
                             double max_drop_points);
std::string render_gate(const GateDecision& decision, double max_drop_points);

}  // namespace r1lab::reports
