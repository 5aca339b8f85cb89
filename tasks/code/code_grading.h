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
  bool warm_python = true;           // Python tests as forks of a warm sandboxed interpreter (warm_python.h)
  std::filesystem::path standings;   // Codeforces: contest standings for the rating (docs/codeforces-rating.md)
};

nlohmann::json to_json(const CodeGradingOptions& options);

// Per-problem data a code task keeps beside tasks::Problem.
// What a per-test time limit bounds: CPU time (judges such as Codeforces'; the wall clock then stops a
// blocked program at 1.5 x + 1 s), or the wall clock (LiveCodeBench's checker: a SIGALRM after that many
// seconds of real time, so a sleeping program runs out too).
enum class TimeLimitClock { cpu, wall };

struct CodeProblem {
  std::vector<TestCase> tests;
  double time_limit_seconds = 6;
  TimeLimitClock time_limit_clock = TimeLimitClock::cpu;
  std::size_t memory_limit_mb = 1024;
  std::string function_name;          // functional tests: the method of Solution (or the module's function)
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

// The Python driver for functional (LeetCode-style) tests, as LiveCodeBench's grade_call_based calls
// them: reads one JSON argument per stdin line; takes Solution() when the program's text contains
// "class Solution", else the module itself; calls its <function_name>(*args); turns a returned tuple
// into a list; prints the marker and the returned value described as JSON for output_compare.h's json
// rule (numbers exact, values that can equal no JSON value marked). The expected value never enters the
// sandbox, so a program cannot read it or forge the comparison.
std::string functional_test_driver(const std::string& function_name);

// Seconds a wall-clock limit adds for what LiveCodeBench does before its per-test alarm starts:
// starting the interpreter and running the import prelude (about 0.1 s on a loaded 2-core machine).
inline constexpr double kWallClockStartUpSeconds = 0.3;

}  // namespace r1lab::code
