#include "tasks/code/test_runner.h"

#include <chrono>
#include <fstream>
#include <optional>

#include <nlohmann/json.hpp>

#include "tasks/code/output_compare.h"
#include "tasks/code/warm_python.h"

namespace r1lab::code {

std::string_view comparison_kind_name(ComparisonKind kind) {
  switch (kind) {
    case ComparisonKind::lcb: return "lcb";
    case ComparisonKind::tokens: return "tokens";
    case ComparisonKind::json: return "json";
    case ComparisonKind::checker: return "checker";
    case ComparisonKind::exit_status: return "exit_status";
  }
  return "lcb";
}

namespace {

std::string truncate_for_detail(std::string_view text, std::size_t limit = 200) {
  std::string out(text.substr(0, limit));
  for (char& c : out) if (c == '\n') c = ' ';
  if (text.size() > limit) out += "...";
  return out;
}

// Runs a testlib-style checker in the sandbox with the three files beside it.
TestOutcome run_checker(const Sandbox& sandbox, const std::filesystem::path& checker, const TestCase& test,
                        const std::string& output) {
  TemporaryFolder folder("checker");
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream out(folder.path() / name, std::ios::binary);
    out << text;
  };
  write("input.txt", test.input);
  write("output.txt", output);
  write("answer.txt", test.output);
  std::filesystem::copy_file(checker, folder.path() / "checker");
  std::filesystem::permissions(folder.path() / "checker", std::filesystem::perms::owner_all |
                                   std::filesystem::perms::group_read | std::filesystem::perms::group_exec |
                                   std::filesystem::perms::others_read | std::filesystem::perms::others_exec);
  for (const char* name : {"input.txt", "output.txt", "answer.txt"})
    std::filesystem::permissions(folder.path() / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                     std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  ExecutionRequest request;
  request.argv = {"{code}/checker", "{code}/input.txt", "{code}/output.txt", "{code}/answer.txt"};
  request.code_dir = folder.path();
  request.limits.cpu_seconds = 10;
  ExecutionResult result = sandbox.run(request);
  TestOutcome outcome;
  if (result.status == ExecutionStatus::ok) outcome.status = ExecutionStatus::ok;
  else if (result.status == ExecutionStatus::runtime_error && (result.exit_code == 1 || result.exit_code == 2)) {
    outcome.status = ExecutionStatus::wrong_answer;   // testlib: 1 wrong answer, 2 presentation error
    outcome.detail = "checker: " + truncate_for_detail(result.stderr_data);
  } else {
    outcome.status = ExecutionStatus::sandbox_error;
    outcome.detail = "the checker itself failed (" + std::string(execution_status_name(result.status)) + ", exit " +
                     std::to_string(result.exit_code) + "): " + truncate_for_detail(result.stderr_data);
  }
  return outcome;
}

}  // namespace

TestOutcome judge_execution(const Sandbox& sandbox, const ExecutionResult& run, const TestCase& test,
                            const ComparisonRule& rule) {
  TestOutcome outcome;
  outcome.wall_seconds = run.wall_seconds;
  outcome.cpu_seconds = run.cpu_seconds;
  outcome.peak_memory_bytes = run.peak_memory_bytes;
  if (run.status != ExecutionStatus::ok) {
    outcome.status = run.status;
    outcome.detail = run.detail;
    if (run.status == ExecutionStatus::runtime_error && !run.stderr_data.empty())
      outcome.detail += ": " + truncate_for_detail(run.stderr_data.substr(run.stderr_data.size() > 400 ? run.stderr_data.size() - 400 : 0));
    return outcome;
  }
  bool matches = false;
  std::string shown = run.stdout_data;
  if (test.kind == TestKind::functional) {
    auto at = run.stdout_data.rfind(kFunctionalResultMarker);
    if (at == std::string::npos) {
      outcome.status = ExecutionStatus::runtime_error;
      outcome.detail = "the solution did not return a value";
      return outcome;
    }
    shown = run.stdout_data.substr(at + kFunctionalResultMarker.size());
    matches = json_values_match(shown, test.output);
  } else {
    switch (rule.kind) {
      case ComparisonKind::lcb: matches = lcb_stdout_matches(run.stdout_data, test.output); break;
      case ComparisonKind::tokens: matches = tokens_match(run.stdout_data, test.output, rule.float_tolerance); break;
      case ComparisonKind::json: matches = json_values_match(run.stdout_data, test.output); break;
      case ComparisonKind::exit_status: matches = true; break;
      case ComparisonKind::checker: {
        TestOutcome checked = run_checker(sandbox, rule.checker, test, run.stdout_data);
        checked.wall_seconds = outcome.wall_seconds;
        checked.cpu_seconds = outcome.cpu_seconds;
        checked.peak_memory_bytes = outcome.peak_memory_bytes;
        return checked;
      }
    }
  }
  outcome.status = matches ? ExecutionStatus::ok : ExecutionStatus::wrong_answer;
  if (!matches) outcome.detail = "expected '" + truncate_for_detail(test.output, 80) + "', got '" + truncate_for_detail(shown, 80) + "'";
  return outcome;
}

ProgramJudgement judge_program(const Sandbox& sandbox, const Program& program, const std::vector<TestCase>& tests,
                               const TestRunOptions& options) {
  ProgramJudgement judgement;
  judgement.total = static_cast<int>(tests.size());
  judgement.compile_cached = program.compile_cached;
  if (!program.ok) {
    judgement.status = ExecutionStatus::compile_error;
    judgement.detail = program.compile.detail + ": " + truncate_for_detail(program.compile.stderr_data, 300);
    return judgement;
  }
  auto started = std::chrono::steady_clock::now();
  judgement.status = ExecutionStatus::ok;
  for (const TestCase& test : tests) {
    ExecutionLimits limits = limits_for(program, options.limits);
    if (options.global_wall_seconds > 0) {
      double left = options.global_wall_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (left <= 0) {
        if (judgement.status == ExecutionStatus::ok) {
          judgement.status = ExecutionStatus::time_limit;
          judgement.detail = "the program's global time budget of " + std::to_string(options.global_wall_seconds) + " s ran out";
        }
        break;
      }
      double wall = limits.wall_seconds > 0 ? limits.wall_seconds : 2 * limits.cpu_seconds + 1;
      limits.wall_seconds = std::min(wall, left);
    }
    ExecutionRequest request;
    request.argv = program.argv;
    request.code_dir = program.folder;
    request.stdin_data = test.input;
    request.limits = limits;
    std::optional<ExecutionResult> warm;
    if (options.warm_python) warm = run_warm(sandbox, program, test.input, limits);
    ExecutionResult run = warm ? std::move(*warm) : sandbox.run(request);
    TestOutcome outcome = judge_execution(sandbox, run, test, options.rule);
    judgement.tests.push_back(outcome);
    if (outcome.status == ExecutionStatus::ok) {
      ++judgement.passed;
      continue;
    }
    if (judgement.status == ExecutionStatus::ok) {
      judgement.status = outcome.status;
      judgement.detail = "test " + std::to_string(judgement.tests.size()) + ": " + std::string(execution_status_name(outcome.status)) +
                         (outcome.detail.empty() ? "" : " (" + outcome.detail + ")");
    }
    if (options.stop_at_first_failure) break;
  }
  return judgement;
}

nlohmann::json to_json(const ExecutionResult& r) {
  return {{"status", execution_status_name(r.status)}, {"exit_code", r.exit_code}, {"signal", r.signal},
          {"wall_s", r.wall_seconds}, {"cpu_s", r.cpu_seconds}, {"peak_memory_bytes", r.peak_memory_bytes},
          {"stdout", r.stdout_data}, {"stderr", r.stderr_data}, {"stderr_truncated", r.stderr_truncated},
          {"detail", r.detail}};
}

nlohmann::json to_json(const ProgramJudgement& j) {
  nlohmann::json tests = nlohmann::json::array();
  for (const auto& t : j.tests)
    tests.push_back({{"status", execution_status_name(t.status)}, {"wall_s", t.wall_seconds}, {"cpu_s", t.cpu_seconds},
                     {"peak_memory_bytes", t.peak_memory_bytes}, {"detail", t.detail}});
  return {{"status", execution_status_name(j.status)}, {"passed", j.passed}, {"total", j.total},
          {"detail", j.detail}, {"compile_cached", j.compile_cached}, {"tests", tests}};
}

}  // namespace r1lab::code
