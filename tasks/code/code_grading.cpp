#include "tasks/code/code_grading.h"

#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tasks/code/code_extract.h"
#include "tasks/data_dir.h"

namespace r1lab::code {

nlohmann::json to_json(const CodeGradingOptions& o) {
  return {{"think_policy", grading::think_policy_name(o.think_policy)},
          {"sandbox", sandbox_mode_name(o.sandbox)},
          {"default_language", language_name(o.default_language)},
          {"time_limit_s", o.time_limit_seconds > 0 ? nlohmann::json(o.time_limit_seconds) : nlohmann::json("per task")},
          {"time_scale", o.time_scale},
          {"memory_limit_mb", o.memory_limit_mb > 0 ? nlohmann::json(o.memory_limit_mb) : nlohmann::json("per task")},
          {"stop_at_first_failure", o.stop_at_first_failure},
          {"float_tolerance", o.float_tolerance},
          {"checker", o.checker.string()}};
}

std::string functional_test_driver(const std::string& function_name) {
  // Mirrors LiveCodeBench's call_method path: arguments are json.loads of each input line, a returned
  // tuple becomes a list; the comparison itself happens in r1lab (output_compare.h).
  return "import json, sys\n"
         "_lines = sys.stdin.read().split('\\n')\n"
         "_args = [json.loads(line) for line in _lines]\n"
         "import main as _solution\n"
         "_result = getattr(_solution.Solution(), '" + function_name + "')(*_args)\n"
         "if isinstance(_result, tuple):\n"
         "    _result = list(_result)\n"
         "try:\n"
         "    _text = json.dumps(_result)\n"
         "except (TypeError, ValueError):\n"
         "    _text = json.dumps(repr(_result))\n"
         "sys.stdout.write('\\n" + std::string(kFunctionalResultMarker) + "' + _text + '\\n')\n";
}

CodeGradingResult grade_code(const CodeProblem& problem, const std::string& completion, const std::string& prompt,
                             const CodeGradingOptions& options, double global_seconds_per_test_extra) {
  CodeGradingResult out;
  grading::Verdict& verdict = out.verdict;
  try {
    auto region = grading::answer_region(completion, options.think_policy, prompt);
    if (!region) {
      verdict.kind = grading::VerdictKind::unfinished;
      verdict.reason = "no </think>: the model never left its reasoning";
      return out;
    }
    auto code = extract_last_code_block(*region, options.default_language);
    if (!code || code->source.find_first_not_of(" \t\r\n") == std::string::npos) {
      verdict.kind = grading::VerdictKind::no_answer;
      verdict.reason = "no fenced code block in the answer";
      return out;
    }
    bool functional = !problem.tests.empty() && problem.tests.front().kind == TestKind::functional;
    if (functional && code->language != Language::python) {
      verdict.kind = grading::VerdictKind::wrong;
      verdict.status = "compile_error";
      verdict.reason = "functional tests need a Python Solution class, got " + std::string(language_name(code->language));
      return out;
    }
    verdict.extracted = std::string(language_name(code->language)) + ", " + std::to_string(code->source.size()) + " bytes";
    verdict.canonical = std::string(language_name(code->language)) + ":" + tasks::sha256_text(code->source).substr(0, 16);

    Sandbox sandbox(options.sandbox);
    ProgramOptions program_options;
    program_options.cache_dir = options.cache_dir;
    std::string source = code->source;
    std::map<std::string, std::string> files;
    std::string entry = "main.py";
    if (code->language == Language::python) {
      source = problem.python_prelude + source + problem.python_epilogue;
      if (functional) {
        files["driver.py"] = functional_test_driver(problem.function_name);
        entry = "driver.py";
      }
    }
    Program program = prepare_program(sandbox, code->language, source, program_options, files, entry);

    TestRunOptions run;
    double limit = options.time_limit_seconds > 0 ? options.time_limit_seconds : problem.time_limit_seconds;
    run.limits.cpu_seconds = limit * options.time_scale;
    run.limits.wall_seconds = run.limits.cpu_seconds * 1.5 + 1;   // sleeping or blocked programs
    run.limits.memory_bytes = (options.memory_limit_mb > 0 ? options.memory_limit_mb : problem.memory_limit_mb) << 20;
    run.stop_at_first_failure = options.stop_at_first_failure;
    // LiveCodeBench's whole-program budget: (timeout + 1) per test, plus 5 s.
    run.global_wall_seconds = (run.limits.cpu_seconds + global_seconds_per_test_extra) * static_cast<double>(problem.tests.size()) + 5;
    run.rule.kind = options.checker.empty() ? problem.comparison : ComparisonKind::checker;
    run.rule.checker = options.checker;
    if (options.float_tolerance > 0 && options.checker.empty()) {
      run.rule.kind = ComparisonKind::tokens;
      run.rule.float_tolerance = options.float_tolerance;
    }
    out.judgement = judge_program(sandbox, program, problem.tests, run);
    verdict.status = std::string(execution_status_name(out.judgement.status));
    if (out.judgement.status == ExecutionStatus::ok) {
      verdict.kind = grading::VerdictKind::correct;
      verdict.reason = "passed " + std::to_string(out.judgement.passed) + "/" + std::to_string(out.judgement.total) + " tests" +
                       (problem.public_tests_only ? " (public tests only)" : "");
    } else if (out.judgement.status == ExecutionStatus::sandbox_error) {
      verdict.kind = grading::VerdictKind::grader_error;
      verdict.reason = out.judgement.detail;
    } else {
      verdict.kind = grading::VerdictKind::wrong;
      verdict.reason = out.judgement.detail;
    }
  } catch (const std::exception& error) {
    verdict.kind = grading::VerdictKind::grader_error;
    verdict.status = "sandbox_error";
    verdict.reason = error.what();
  }
  return out;
}

}  // namespace r1lab::code
