#include <iostream>

#include "harness/commands.h"
#include "tasks/registry.h"

namespace r1lab::harness {

void add_prompts_command(CLI::App& app) {
  struct Flags {
    std::string task, data_dir;
    int n = 1;
    GradingFlags grading;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand("prompts", "Write a task's prompts as JSONL, ready for any generator");
  command->add_option("--task", flags->task, "Task name")->required();
  command->add_option("-n", flags->n, "Samples per problem (GPQA writes one line per sample: its shuffle differs)")
      ->check(CLI::PositiveNumber);
  command->add_option("--data-dir", flags->data_dir, "Benchmark data directory");
  command->add_option("--choice-seed", flags->grading.choice_seed, "Seed of the multiple-choice shuffle (GPQA)");
  command->add_option("--template", flags->grading.prompt_template, "paper or r1_zero")
      ->check(CLI::IsMember({"paper", "r1_zero"}));
  command->callback([flags] {
    auto config = grading_config_from(flags->grading);
    auto task = tasks::make_task(flags->task);
    task->load(tasks::DataDirectory::resolve(flags->data_dir));
    for (const auto& problem : task->problems()) {
      std::uint64_t lines = task->prompt_varies_per_sample() ? static_cast<std::uint64_t>(flags->n) : 1;
      for (std::uint64_t s = 0; s < lines; ++s) {
        auto prompt = task->prompt(problem, s, config);
        nlohmann::json line = {{"id", problem.id}, {"prompt", prompt.text}, {"task", task->info().name},
                               {"task_version", task->info().version}, {"reference", problem.reference}};
        if (task->prompt_varies_per_sample()) line["sample"] = s;
        else line["n"] = flags->n;
        if (prompt.permutation) line["permutation"] = *prompt.permutation;
        std::cout << line.dump() << "\n";
      }
    }
  });
}

}  // namespace r1lab::harness
