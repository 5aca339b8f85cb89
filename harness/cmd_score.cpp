#include <iostream>

#include "harness/commands.h"
#include "harness/score_run.h"
#include "reports/results_table.h"

namespace r1lab::harness {

void add_score_command(CLI::App& app) {
  struct Flags {
    ScoreOptions options;
    GradingFlags grading;
    std::string samples, out;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand("score", "Grade a file of generations and compute pass@1, pass@k, cons@n");
  command->add_option("--task", flags->options.task, "Task name (`r1lab tasks`)")->required();
  command->add_option("--samples", flags->samples, "Generations: JSONL (id, sample, completion) or a SkyThought file")->required();
  command->add_option("--out", flags->out, "Output directory for results.json and verdicts.jsonl")->required();
  command->add_option("--format", flags->options.format, "jsonl, skythought or auto")
      ->check(CLI::IsMember({"auto", "jsonl", "skythought"}));
  command->add_option("--id-field", flags->options.fields.id, "Field holding the problem id");
  command->add_option("--sample-field", flags->options.fields.sample, "Field holding the sample index");
  command->add_option("--completion-field", flags->options.fields.completion, "Field holding the generated text");
  command->add_option("--prompt-field", flags->options.fields.prompt, "Field holding the prompt (for --think auto)");
  command->add_option("--model", flags->options.model, "Model name for reports (default: the samples file's folder)");
  command->add_option("--pass-k", flags->options.pass_k, "Also report pass@k for these k (each <= n; pass@1 always)")->delimiter(',');
  command->add_option("--cons-k", flags->options.cons_k, "Also report cons@k for these k (each <= n; cons@n always when n > 1)")->delimiter(',');
  command->add_flag("--allow-partial", flags->options.allow_partial, "Score even if problems have fewer than n samples");
  command->add_option("-j,--jobs", flags->options.workers, "Grading worker processes (default: every core)");
  command->add_option("--data-dir", flags->options.data_dir, "Benchmark data directory (else $R1LAB_DATA, ../shared/data)");
  add_grading_flags(*command, flags->grading);
  command->callback([flags] {
    flags->options.samples = flags->samples;
    flags->options.out_dir = flags->out;
    flags->options.grading = grading_config_from(flags->grading);
    flags->options.think_policy_given = flags->grading.think_option->count() > 0;
    flags->options.hard_deadline = std::chrono::milliseconds(flags->grading.deadline_ms * 5 + 1000);
    auto results = run_score(flags->options);
    std::cout << reports::render_summary(results);
    std::cout << "wrote " << (std::filesystem::path(flags->out) / "results.json").string() << " and verdicts.jsonl\n";
  });
}

}  // namespace r1lab::harness
