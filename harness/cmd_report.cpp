#include <iostream>

#include "harness/commands.h"
#include "reports/regression_gate.h"
#include "reports/results_table.h"

namespace r1lab::harness {

void add_report_command(CLI::App& app) {
  struct Flags {
    std::vector<std::string> runs, baseline;
    std::string paper, format = "md";
    double max_drop = -1;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand("report", "Runs side by side (from results.json), with the paper and a regression gate");
  command->add_option("runs", flags->runs, "Run directories (or results.json files)")->required();
  command->add_option("--paper", flags->paper, "Add the paper's table: table2, table5 or table6")
      ->check(CLI::IsMember({"table2", "table5", "table6"}));
  command->add_option("--format", flags->format, "md, csv or html")->check(CLI::IsMember({"md", "csv", "html"}));
  command->add_option("--baseline", flags->baseline, "Baseline run directories for the gate");
  command->add_option("--max-drop", flags->max_drop, "Gate: fail when a metric drops by more than this many points beyond noise");
  command->callback([flags] {
    std::vector<nlohmann::json> current;
    for (const auto& run : flags->runs) current.push_back(reports::load_results(run));
    std::optional<std::string> paper;
    if (!flags->paper.empty()) paper = flags->paper;
    std::cout << reports::render_table(reports::build_table(current, paper), reports::table_format_from_name(flags->format));
    if (flags->baseline.empty()) {
      if (flags->max_drop >= 0) throw std::invalid_argument("--max-drop needs --baseline");
      return;
    }
    if (flags->max_drop < 0) throw std::invalid_argument("--baseline needs --max-drop (points)");
    std::vector<nlohmann::json> baseline;
    for (const auto& run : flags->baseline) baseline.push_back(reports::load_results(run));
    auto decision = reports::regression_gate(baseline, current, flags->max_drop);
    std::cout << "\n" << reports::render_gate(decision, flags->max_drop);
    if (decision.failed) throw CLI::RuntimeError(1);
  });
}

}  // namespace r1lab::harness
