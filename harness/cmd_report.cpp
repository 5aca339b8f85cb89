#include <fmt/format.h>

#include <iostream>
#include <optional>

#include "harness/atomic_file.h"
#include "harness/commands.h"
#include "harness/version.h"
#include "reports/html_report.h"
#include "reports/regression_gate.h"
#include "reports/results_table.h"

namespace r1lab::harness {

void add_report_command(CLI::App& app) {
  struct Flags {
    std::vector<std::string> runs, baseline, labels;
    std::string paper, paper_row, format = "md", out = "-";
    double max_drop = -1, confidence = 0.95;
    bool allow_missing = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand("report", "Runs side by side (from results.json), with the paper and a regression gate");
  command->add_option("runs", flags->runs, "Runs: eval run folders (all their tasks), task folders or results.json files")->required();
  command->add_option("--label", flags->labels, "Row label of each run, in order (default: model (folder))")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_option("--paper", flags->paper, "Add the paper's table: table2, table5 or table6")
      ->check(CLI::IsMember({"table2", "table5", "table6"}));
  command->add_option("--paper-row", flags->paper_row,
                      "Compare every run with this row of the --paper table (default: rows whose name is the model's)");
  command->add_option("--format", flags->format, "md, csv or html (one self-contained page with plots)")
      ->check(CLI::IsMember({"md", "csv", "html"}));
  command->add_option("--out", flags->out, "Write the report to this file (replaced whole, never half-written); - is standard output")
      ->capture_default_str();
  // One path per --baseline (repeat it, or separate with commas), so it never swallows the runs after it.
  command->add_option("--baseline", flags->baseline, "Baseline run directory for the gate, one per task (repeatable)")
      ->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->delimiter(',');
  command->add_option("--max-drop", flags->max_drop, "Gate: fail when a metric drops by more than this many points beyond noise")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--confidence", flags->confidence, "Gate: two-sided confidence of the noise band")
      ->check(CLI::Range(0.5, 0.9999))->capture_default_str();
  command->add_flag("--allow-missing", flags->allow_missing, "Gate: a baseline metric the current runs lack does not fail");
  command->callback([flags] {
    if (!flags->labels.empty() && flags->labels.size() != flags->runs.size())
      throw std::invalid_argument(fmt::format("{} --label for {} runs; give one per run, in order", flags->labels.size(), flags->runs.size()));
    if (!flags->paper_row.empty() && flags->paper.empty()) throw std::invalid_argument("--paper-row needs --paper");
    std::vector<reports::LoadedRun> current;
    for (std::size_t i = 0; i < flags->runs.size(); ++i)
      for (auto& run : reports::load_runs(flags->runs[i], flags->labels.empty() ? "" : flags->labels[i])) current.push_back(std::move(run));
    std::optional<reports::PaperComparison> paper;
    if (!flags->paper.empty()) paper = reports::PaperComparison{flags->paper, flags->paper_row};
    const auto format = reports::table_format_from_name(flags->format);
    reports::Table table = reports::build_table(current, paper);
    std::optional<reports::GateOutcome> gate;
    if (flags->baseline.empty()) {
      if (flags->max_drop >= 0) throw std::invalid_argument("--max-drop needs --baseline");
    } else {
      if (flags->max_drop < 0) throw std::invalid_argument("--baseline needs --max-drop (points)");
      std::vector<reports::LoadedRun> baseline;
      for (const auto& path : flags->baseline)
        for (auto& run : reports::load_runs(path)) baseline.push_back(std::move(run));
      reports::GateOptions options{flags->max_drop, flags->confidence, flags->allow_missing};
      gate = reports::GateOutcome{reports::regression_gate(baseline, current, options), options};   // GateError: exit 2
    }
    const bool gate_failed = gate && gate->decision.failed;
    std::string text;
    if (format == reports::TableFormat::html) {
      // The page holds the gate too: one file to publish from CI.
      text = reports::render_html_report({std::move(current), std::move(table), paper, std::move(gate),
                                          fmt::format("r1lab {} ({})", kVersion, kGitSha)});
    } else {
      text = reports::render_table(table, format);
      if (gate) text += "\n" + reports::render_gate(gate->decision, gate->options, format);
    }
    if (flags->out.empty() || flags->out == "-") {
      std::cout << text;
    } else {
      write_file_atomically(flags->out, text);
      std::cerr << "report: wrote " << flags->out << "\n";
    }
    if (gate_failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace r1lab::harness
