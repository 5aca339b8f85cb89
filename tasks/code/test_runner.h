// tasks/code/test_runner.h — judge one program on a list of tests: run each in the sandbox, compare.
//
// Tests run in order, each in a fresh sandboxed process with the per-test limits (for Python, by default
// a fork of a warm sandboxed interpreter: tasks/code/warm_python.h); by default the run
// stops at the first failing test (LiveCodeBench and Codeforces judges do), and a per-program global
// wall-clock budget stops it too (the remaining tests count as time_limit). The overall status is ok
// when every test passed, else the status of the first failing test.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tasks/code/program.h"
#include "tasks/code/sandbox.h"

namespace r1lab::code {

enum class TestKind { standard_io, functional };

struct TestCase {
  std::string input;
  std::string output;
  TestKind kind = TestKind::standard_io;
};

// exit_status: the test passes when the program exits 0 (HumanEval's asserts); output is not compared.
enum class ComparisonKind { lcb, tokens, json, checker, exit_status };
std::string_view comparison_kind_name(ComparisonKind kind);

struct ComparisonRule {
  ComparisonKind kind = ComparisonKind::lcb;
  double float_tolerance = 0;               // tokens only
  std::filesystem::path checker;            // checker only: `checker input output answer`, exit 0 = accepted
};

struct TestRunOptions {
  ExecutionLimits limits;                   // per test
  double global_wall_seconds = 0;           // 0: no budget for the whole program
  bool stop_at_first_failure = true;
  ComparisonRule rule;
  bool warm_python = true;                  // Python tests as forks of a warm interpreter (warm_python.h)
};

struct TestOutcome {
  ExecutionStatus status = ExecutionStatus::sandbox_error;
  double wall_seconds = 0;
  double cpu_seconds = 0;
  std::size_t peak_memory_bytes = 0;
  std::string detail;
};

struct ProgramJudgement {
  ExecutionStatus status = ExecutionStatus::sandbox_error;
  int passed = 0;
  int total = 0;
  std::vector<TestOutcome> tests;           // only the tests that ran
  std::string detail;                       // about the first failure
  bool compile_cached = false;
};

// The verdict of one finished execution against the expected output under `rule`.
TestOutcome judge_execution(const Sandbox& sandbox, const ExecutionResult& run, const TestCase& test,
                            const ComparisonRule& rule);

ProgramJudgement judge_program(const Sandbox& sandbox, const Program& program, const std::vector<TestCase>& tests,
                               const TestRunOptions& options);

nlohmann::json to_json(const ProgramJudgement& judgement);
nlohmann::json to_json(const ExecutionResult& result);

// Marker line the functional-test driver prints before the JSON of the returned value.
inline constexpr std::string_view kFunctionalResultMarker = "@@r1lab-result@@";

}  // namespace r1lab::code
