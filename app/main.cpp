// r1lab — evaluate reasoning models the way the DeepSeek-R1 paper did. One binary, subcommands.
// The built-in engine (trainer/) is a plugin the harness loads when a command needs it (harness/local_backend.h).
#include <csignal>
#include <iostream>

#include "harness/commands.h"
#include "harness/version.h"

int main(int argc, char** argv) {
  // Writing to a pipe whose reader is gone (a sandboxed program that closed stdin) must be an error
  // code, not a fatal signal. Programs we start get the default back (tasks/code/sandbox.cpp).
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"r1lab: benchmark and train reasoning models (DeepSeek-R1 protocol)"};
  app.set_version_flag("--version", std::string(r1lab::harness::kVersion) + " (" + r1lab::harness::kGitSha + ")");
  app.require_subcommand(1);
  // --help shows each option's default; subcommands inherit this when they are added below.
  app.option_defaults()->always_capture_default();
  r1lab::harness::add_eval_command(app, argc, argv);
  r1lab::harness::add_score_command(app);
  r1lab::harness::add_export_command(app);
  r1lab::harness::add_show_command(app);
  r1lab::harness::add_grade_command(app);
  r1lab::harness::add_prompts_command(app);
  r1lab::harness::add_report_command(app);
  r1lab::harness::add_run_code_command(app);
  r1lab::harness::add_tasks_command(app);
  r1lab::harness::add_data_command(app);
  r1lab::harness::add_tokenize_command(app);
  r1lab::harness::add_generate_command(app);
  r1lab::harness::add_train_command(app, argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& exit) {
    return exit.get_exit_code();
  } catch (const CLI::ParseError& error) {
    // --help and --version are "errors" that exit 0; every real parse error is a usage error: 2.
    return app.exit(error) == 0 ? 0 : 2;
  } catch (const std::exception& error) {
    std::cerr << "r1lab: error: " << error.what() << "\n";
    return 2;
  }
  return 0;
}
