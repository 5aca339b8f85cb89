// `r1lab run-code`: run one program in the sandbox and print what happened as JSON; with --expected,
// also judge the output under a comparison rule. For debugging graders and for the sandbox tests.
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "harness/commands.h"
#include "tasks/code/program.h"
#include "tasks/code/test_runner.h"

namespace r1lab::harness {

namespace {

std::string read_whole_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string(flag) + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct RunCodeFlags {
  std::string language = "python";
  std::string file;
  std::string stdin_file;
  std::string expected_file;
  std::string compare = "lcb";
  double float_tolerance = 0;
  double time_limit = 6;
  double wall_limit = 0;
  int memory_limit_mb = 1024;
  std::string sandbox = "bubblewrap";
};

}  // namespace

void add_run_code_command(CLI::App& app) {
  auto flags = std::make_shared<RunCodeFlags>();
  auto* command = app.add_subcommand("run-code", "Run one program in the sandbox; print the result as JSON");
  command->add_option("file", flags->file, "Source file")->required()->check(CLI::ExistingFile);
  command->add_option("--lang", flags->language, "python or cpp")->check(CLI::IsMember({"python", "cpp"}));
  command->add_option("--stdin", flags->stdin_file, "File fed to the program's stdin")->check(CLI::ExistingFile);
  command->add_option("--expected", flags->expected_file, "Expected output: also print the verdict")->check(CLI::ExistingFile);
  command->add_option("--compare", flags->compare, "lcb, tokens, json or checker:PATH");
  command->add_option("--float-tolerance", flags->float_tolerance, "tokens: relative tolerance for numbers");
  command->add_option("--time-limit", flags->time_limit, "CPU seconds")->check(CLI::Range(0.05, 600.0));
  command->add_option("--wall-limit", flags->wall_limit, "Wall-clock seconds (default 2 x time limit + 1)");
  command->add_option("--memory-limit", flags->memory_limit_mb, "Address space in MB")->check(CLI::Range(16, 65536));
  command->add_option("--sandbox", flags->sandbox,
                      "bubblewrap (default) or rlimits-only (weaker: no namespaces; only if bubblewrap cannot run)");
  command->callback([flags] {
    code::Sandbox sandbox(sandbox_mode_from_flag(flags->sandbox));
    code::Language language = code::language_from_name(flags->language);
    std::string source = read_whole_file(flags->file, "file");
    code::TestCase test;
    if (!flags->stdin_file.empty()) test.input = read_whole_file(flags->stdin_file, "--stdin");
    code::ComparisonRule rule;
    if (flags->compare.rfind("checker:", 0) == 0) {
      rule.kind = code::ComparisonKind::checker;
      rule.checker = flags->compare.substr(8);
      if (!std::filesystem::exists(rule.checker)) throw std::runtime_error("--compare: no checker at " + rule.checker.string());
    } else if (flags->compare == "lcb") rule.kind = code::ComparisonKind::lcb;
    else if (flags->compare == "tokens") rule.kind = code::ComparisonKind::tokens;
    else if (flags->compare == "json") rule.kind = code::ComparisonKind::json;
    else throw std::invalid_argument("--compare must be lcb, tokens, json or checker:PATH, not '" + flags->compare + "'");
    rule.float_tolerance = flags->float_tolerance;

    code::Program program = code::prepare_program(sandbox, language, source);
    nlohmann::json out = {{"sandbox", code::sandbox_mode_name(sandbox.mode())}, {"language", code::language_name(language)}};
    if (language == code::Language::cpp)
      out["compile"] = {{"status", code::execution_status_name(program.compile.status)}, {"cached", program.compile_cached},
                        {"stderr", program.compile.stderr_data}, {"wall_s", program.compile.wall_seconds}};
    if (!program.ok) {
      out["status"] = "compile_error";
    } else {
      code::ExecutionRequest request;
      request.argv = program.argv;
      request.code_dir = program.folder;
      request.stdin_data = test.input;
      request.limits.cpu_seconds = flags->time_limit;
      request.limits.wall_seconds = flags->wall_limit;
      request.limits.memory_bytes = static_cast<std::size_t>(flags->memory_limit_mb) << 20;
      request.limits = code::limits_for(program, request.limits);
      code::ExecutionResult result = sandbox.run(request);
      out["run"] = code::to_json(result);
      out["status"] = code::execution_status_name(result.status);
      if (!flags->expected_file.empty()) {
        test.output = read_whole_file(flags->expected_file, "--expected");
        code::TestOutcome verdict = code::judge_execution(sandbox, result, test, rule);
        out["verdict"] = {{"status", code::execution_status_name(verdict.status)}, {"compare", flags->compare},
                          {"detail", verdict.detail}};
        out["status"] = code::execution_status_name(verdict.status);
      }
    }
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    // Scripts branch on the exit status: 0 only when the program ran (and matched, with --expected).
    if (out["status"] != "ok") throw CLI::RuntimeError(1);
  });
}

}  // namespace r1lab::harness
