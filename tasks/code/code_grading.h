// tasks/code/code_grading.h — what code tasks share: the grading options and a base class that turns a
// completion into a verdict (answer region -> last code block -> program -> tests in the sandbox).
//
// A code task adapter only loads its problems (statement, tests, limits) and writes its prompt; the
// grading path is the same for LiveCodeBench, Codeforces and HumanEval, so RL rewards and evaluation
// cannot drift apart.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tasks/code/program.h"
#include "tasks/code/sandbox.h"
#include "tasks/code/test_runner.h"
#include "tasks/grading/reasoning_split.h"
#include "tasks/grading/verdict.h"

namespace r1lab::code {

struct CodeGradingOptions {
  grading::ThinkPolicy think_policy = grading::ThinkPolicy::required;
  SandboxMode sandbox = SandboxMode::bubblewrap;
  Language default_language = Language::python;   // for a code block without a language tag
  double time_limit_seconds = 0;     // 0: the task's (LiveCodeBench 6 s, Codeforces per problem)
  double time_scale = 1;             // multiplies every per-test time limit
  std::size_t memory_limit_mb = 0;   // 0: the task's
  bool stop_at_first_failure = true;
  double float_tolerance = 0;        // Codeforces token comparison
  std::filesystem::path checker;     // Codeforces: a testlib-style checker for every problem
  std::filesystem::path cache_dir;   // compiled C++ programs (empty: the default)
  std::filesystem::path standings;   // Codeforces: contest standings for the rating (docs/codeforces-rating.md)
};

nlohmann::json to_json(const CodeGradingOptions& options);

// Per-problem data a code task keeps beside tasks::Problem.
struct CodeProblem {
  std::vector<TestCase> tests;
  double time_limit_seconds = 6;
  std::size_t memory_limit_mb = 1024;
  std::string function_name;          // functional tests: the Solution method
  std::string python_prelude;         // prepended to Python programs (LiveCodeBench's imports)
  std::string python_epilogue;        // appended to Python programs (HumanEval's tests)
  ComparisonKind comparison = ComparisonKind::lcb;
  bool public_tests_only = false;
};

struct CodeGradingResult {
  grading::Verdict verdict;
  ProgramJudgement judgement;
};

// Grades one completion for one problem. Never throws.
CodeGradingResult grade_code(const CodeProblem& problem, const std::string& completion, const std::string& prompt,
                             const CodeGradingOptions& options, double global_seconds_per_test_extra = 1);

// The Python driver for functional (LeetCode-style) tests: reads one JSON argument per stdin line, calls
// Solution().<function_name>(*args), prints the marker and the JSON of the result.
std::string functional_test_driver(const std::string& function_name);

}  // namespace r1lab::code
