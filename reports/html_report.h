// reports/html_report.h — `r1lab report --format html`: one self-contained HTML page.
//
// The page holds what a reader needs to judge a comparison without the run folders: per run and task
// its model, date, sampling, n, r1lab version and warnings (partial run, first problems only, dataset
// not the known one, hints); the results table (build_table's) with n under each value and what ±
// means; the paper's rows with the paper table's note; the regression gate's table and verdict when a
// gate ran; and plots as inline SVG (reports/svg_plot.h): pass@k and cons@k over k, response lengths of
// correct and other answers, pass@1 per subject or level (results.json "curves", "response_lengths"
// "histogram", "breakdowns").
// Design goals: one file that opens offline anywhere (inline CSS and SVG, no script, nothing fetched);
// built only from results.json (DESIGN.md); every text from a run escaped; a plot whose data an older
// results.json lacks is left out with a line saying so, never drawn empty.
// Not here: loading runs, deciding the gate, writing the file (the caller does; see harness/cmd_report.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reports/regression_gate.h"
#include "reports/results_table.h"

namespace r1lab::reports {

struct GateOutcome {
  GateDecision decision;
  GateOptions options;
};

struct HtmlReportInput {
  std::vector<LoadedRun> runs;                   // the current runs, one per task of each run the user named
  Table table;                                   // build_table(runs, paper)
  std::optional<PaperComparison> paper;
  std::optional<GateOutcome> gate;               // when a gate ran
  std::string made_by;                           // "r1lab 0.4.0 (abc123)", for the footer
};

std::string render_html_report(const HtmlReportInput& input);

}  // namespace r1lab::reports
