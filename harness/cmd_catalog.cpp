// `r1lab tasks` and `r1lab data`: what r1lab can run, and whether its data is here.
#include <fmt/format.h>

#include <iostream>

#include "harness/commands.h"
#include "tasks/registry.h"

namespace r1lab::harness {

void add_tasks_command(CLI::App& app) {
  auto* command = app.add_subcommand("tasks", "List tasks with their versions and the samples per problem `eval` draws (n)");
  command->callback([] {
    std::cout << fmt::format("{:<16} {:>7} {:>4}  {}\n", "task", "version", "n", "description");
    for (const auto& name : tasks::task_names()) {
      auto task = tasks::make_task(name);
      std::cout << fmt::format("{:<16} {:>7} {:>4}  {}\n", name, task->info().version, task->info().default_samples,
                               task->info().description);
    }
  });
}

void add_data_command(CLI::App& app) {
  auto data_dir = std::make_shared<std::string>();
  auto* command = app.add_subcommand("data", "Show each dataset: present, checksum, expected layout, public source");
  command->add_option("--data-dir", *data_dir, "Benchmark data directory");
  command->callback([data_dir] {
    auto data = tasks::DataDirectory::resolve(*data_dir);
    std::cout << "data directory: " << data.root().string() << " (from " << data.how_found() << ")\n";
    bool all_ok = true;
    for (const auto& name : tasks::task_names()) {
      const auto spec = tasks::make_task(name)->info().dataset;
      auto path = data.root() / spec.relative_path;
      std::string state;
      if (spec.relative_path.empty()) {
        state = "generated (" + spec.records + ")";
      } else if (!std::filesystem::is_regular_file(path)) {
        state = "MISSING — expected " + path.string() + " (" + spec.records + "); public copy: " + spec.public_source;
        all_ok = false;
      } else {
        std::string sha = tasks::sha256_file(path);
        state = sha == spec.sha256 ? "ok (sha256 matches)"
                                   : "present, sha256 DIFFERS (" + sha.substr(0, 12) + "…, known " + spec.sha256.substr(0, 12) +
                                         "…): scores may not be comparable";
      }
      std::cout << fmt::format("{:<16} {:<38} {}\n", name, spec.relative_path, state);
    }
    if (!all_ok) {
      std::cout << "set --data-dir or $R1LAB_DATA to a directory with the layout above\n";
      throw CLI::RuntimeError(1);   // scripts can check the data before a long run
    }
  });
}

}  // namespace r1lab::harness
