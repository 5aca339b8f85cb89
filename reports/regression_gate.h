// reports/regression_gate.h — decide whether current runs regressed against baseline runs, beyond noise.
//
// Pairing: each current run is compared with the baseline run of the same task (one baseline per task).
// Per metric of that baseline (pass@1, pass@k, cons@k):
//   drop  = baseline − current, in percentage points (positive: worse)
//   paired, when both runs carry per-problem scores over the same problems (results.json "per_problem"):
//     d_i = baseline_i − current_i; noise = z · sd(d, ddof 1) / √problems
//   unpaired otherwise (the line says why): noise = z · √(se_baseline² + se_current²)
//   z: the two-sided normal quantile at --confidence (0.95: 1.96)
//   the metric fails when drop > max_drop AND drop > noise.
// A baseline metric that no current run of that task has fails too (unless allow_missing): a run that
// died early must not pass CI. Nothing in common between the two sides is an error, never a pass.
// The paired test matters: on the same 500 problems, 22 made wrong is −4.4 points with a paired band of
// about 1.8 points, where the unpaired band would be about 5 points.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/results_table.h"

namespace r1lab::reports {

struct GateOptions {
  double max_drop_points = 0;
  double confidence = 0.95;
  bool allow_missing = false;
};

struct GateLine {
  std::string task, metric;
  std::string baseline_run, current_run;   // where each side came from (the pairing)
  double baseline = 0, current = 0;        // points
  double drop = 0;                         // baseline − current, points
  double noise = 0;                        // points
  std::string comparison;                  // "paired, 500 problems", "unpaired: ...", "missing"
  bool missing = false;                    // the current run lacks this metric (or the task)
  bool failed = false;
};

struct GateDecision {
  std::vector<GateLine> lines;
  std::vector<std::string> ungated;        // current runs whose task has no baseline
  double z = 0;
  bool failed = false;
};

// A gate that cannot be decided (nothing in common, two baselines for one task).
struct GateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

GateDecision regression_gate(const std::vector<LoadedRun>& baseline, const std::vector<LoadedRun>& current,
                             const GateOptions& options);
std::string render_gate(const GateDecision& decision, const GateOptions& options, TableFormat format);

// The two-sided standard normal quantile: z with P(|Z| <= z) = confidence.
double two_sided_normal_quantile(double confidence);

}  // namespace r1lab::reports
