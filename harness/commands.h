// harness/commands.h — the subcommands of `r1lab`. Each lives in its own cmd_*.cpp and registers itself
// here; main.cpp only builds the app and reports errors.
#pragma once

#include <CLI/CLI.hpp>

#include "tasks/task.h"

namespace r1lab::harness {

void add_score_command(CLI::App& app);
void add_grade_command(CLI::App& app);
void add_prompts_command(CLI::App& app);
void add_tasks_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_run_code_command(CLI::App& app);
// argv is kept to show the exact command that resumes an interrupted run.
void add_eval_command(CLI::App& app, int argc, char** argv);
void add_export_command(CLI::App& app);
void add_show_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_generate_command(CLI::App& app);   // runs in the trainer plugin
void add_train_command(CLI::App& app, int argc, char** argv);   // runs in the trainer plugin; argv: --nproc restarts it

// The grading policy flags shared by `score` and `grade`; every flag is listed once, here.
struct GradingFlags {
  std::string think = "required";
  bool fallback_extraction = false;
  std::string unreduced_fractions = "accept";
  std::string percent = "strip";
  double float_rel_tol = 1e-6;
  int deadline_ms = 2000;
  std::uint64_t choice_seed = 0;
  std::string prompt_template = "paper";
  CLI::Option* think_option = nullptr;
  // Code tasks.
  std::string sandbox = "bubblewrap";
  double time_limit = 0;
  double time_scale = 1;
  std::size_t memory_limit_mb = 0;
  bool all_tests = false;
  double float_tolerance = 0;
  std::string checker;
  std::string standings;
  std::string code_language = "python";
  std::string code_cache;
  std::string python_start = "warm";
};
void add_grading_flags(CLI::App& command, GradingFlags& flags);
code::SandboxMode sandbox_mode_from_flag(const std::string& value);
// Throws std::invalid_argument naming the flag when a value is not allowed.
tasks::GradingConfig grading_config_from(const GradingFlags& flags);

}  // namespace r1lab::harness
