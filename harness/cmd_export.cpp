// `r1lab export DIR`: a run's samples as JSONL, the format `r1lab score` (and most harnesses) read.
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/atomic_file.h"
#include "harness/commands.h"
#include "harness/sample_store.h"

namespace r1lab::harness {

void add_export_command(CLI::App& app) {
  struct Flags {
    std::string run_dir, task, out;
  };
  auto flags = std::make_shared<Flags>();
  auto* command = app.add_subcommand("export", "Write a run's samples as JSONL (id, sample, completion, prompt, ...) per task");
  command->add_option("run_dir", flags->run_dir, "Run directory of `r1lab eval`")->required();
  command->add_option("--task", flags->task, "Only this task (default: every task in the run)");
  command->add_option("--out", flags->out, "Output file, - for standard output (only with --task; default: RUN_DIR/<task>/samples.jsonl)");
  command->callback([flags] {
    std::filesystem::path run_dir = flags->run_dir;
    auto database = run_dir / "samples.sqlite";
    if (!std::filesystem::exists(database))
      throw std::runtime_error(fmt::format("{} has no samples.sqlite: pass the --out directory of an `r1lab eval` run",
                                           run_dir.string()));
    if (!flags->out.empty() && flags->task.empty()) throw std::invalid_argument("--out needs --task (one file per task)");
    SampleStore store(database);
    auto names = flags->task.empty() ? store.tasks() : std::vector<std::string>{flags->task};
    if (names.empty()) throw std::runtime_error(database.string() + " holds no samples yet");
    for (const auto& name : names) {
      std::string lines;
      std::size_t count = 0;
      store.for_each_sample(name, true, [&](StoredSample&& s) {
        nlohmann::json line = {{"task", name}, {"id", s.problem_id}, {"sample", s.sample}, {"completion", s.completion},
                               {"prompt", s.prompt}, {"finish_reason", s.finish_reason}};
        if (s.completion_tokens >= 0) line["completion_tokens"] = s.completion_tokens;
        lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        ++count;
      });
      if (count == 0) throw std::runtime_error(fmt::format("{} holds no samples of task '{}'", database.string(), name));
      if (flags->out == "-") {   // standard output: the lines only, no "wrote" line
        std::cout << lines;
        continue;
      }
      std::filesystem::path target = flags->out.empty() ? run_dir / name / "samples.jsonl" : std::filesystem::path(flags->out);
      if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
      write_file_atomically(target, lines);
      std::cout << fmt::format("wrote {} ({} samples)\n", target.string(), count);
    }
  });
}

}  // namespace r1lab::harness
