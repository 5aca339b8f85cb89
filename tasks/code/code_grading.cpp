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
          {"checker", o.checker.string()},
          {"python_start", o.warm_python ? "warm" : "cold"}};
}

std::string functional_test_driver(const std::string& function_name) {
  // grade_call_based in lcb_runner/evaluation/testing_util.py: arguments are json.loads of each input
  // line; the target is Solution() when the code contains "class Solution", else the module; a returned
  // tuple becomes a list; then `result == expected`. That last step is done by r1lab (output_compare.h)
  // on the value described below, so that the expected value stays outside the sandbox.
  static const std::string driver_text = R"PY(import json, math, numbers, os, sys
from decimal import Decimal
from fractions import Fraction

def _unequal(why):
    return {"@@r1lab-unequal@@": why}

def _number(value):
    # Python compares int, float, Fraction and Decimal by exact value: an integral value is written as
    # an integer, any other as the float it equals exactly; one that no float equals can equal no JSON
    # number (json.loads gives only ints and floats).
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        return _number(value.real) if value.imag == 0 else _unequal("complex")
    if isinstance(value, Decimal):
        if not value.is_finite():
            return _unequal("nan" if value.is_nan() else "infinity")
        exact = Fraction(value)
    elif isinstance(value, numbers.Rational):
        exact = Fraction(value.numerator, value.denominator)
    else:
        value = float(value)
        if math.isnan(value) or math.isinf(value):
            return _unequal("nan" if math.isnan(value) else "infinity")
        exact = Fraction(value)
    if exact.denominator == 1:
        return int(exact)
    approximation = float(exact)
    return approximation if Fraction(approximation) == exact else _unequal("a number that no float equals")

def _describe(value, depth=0):
    # The returned value as JSON, for the comparison with the expected JSON value under Python's ==.
    if depth > 1000:
        return _unequal("nested too deeply")
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        value = value.item()
    if value is None:
        return None
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, numbers.Number):
        return _number(value)
    if isinstance(value, list):
        return [_describe(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {str.__str__(key): _describe(item, depth + 1) for key, item in value.items()}
        return _unequal("a dict with keys that are not strings")
    return _unequal(type(value).__name__)

_arguments = [json.loads(line) for line in sys.stdin.read().split("\n")]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "main.py"), encoding="utf-8") as _file:
    _source = _file.read()
import main as _program
_target = _program.Solution() if "class Solution" in _source else _program
_result = getattr(_target, FUNCTION_NAME)(*_arguments)
if isinstance(_result, tuple):
    _result = list(_result)
_description = _describe(_result)
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)
sys.__stdout__.write("\nMARKER" + json.dumps(_description) + "\n")
sys.__stdout__.flush()
)PY";
  std::string text = driver_text;
  auto replace = [&](std::string_view from, const std::string& to) { text.replace(text.find(from), from.size(), to); };
  replace("MARKER", std::string(kFunctionalResultMarker));
  replace("FUNCTION_NAME", nlohmann::json(function_name).dump());   // a JSON string is a Python string literal
  return text;
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
    if (problem.time_limit_clock == TimeLimitClock::wall) {
      run.limits.wall_seconds = run.limits.cpu_seconds + kWallClockStartUpSeconds;
      run.limits.cpu_seconds = run.limits.wall_seconds;   // no tighter CPU limit than the wall clock's
    } else {
      run.limits.wall_seconds = run.limits.cpu_seconds * 1.5 + 1;   // sleeping or blocked programs
    }
    run.limits.memory_bytes = (options.memory_limit_mb > 0 ? options.memory_limit_mb : problem.memory_limit_mb) << 20;
    run.stop_at_first_failure = options.stop_at_first_failure;
    run.warm_python = options.warm_python;
    // LiveCodeBench's whole-program budget: (timeout + 1) per test, plus 5 s.
    run.global_wall_seconds = (limit * options.time_scale + global_seconds_per_test_extra) * static_cast<double>(problem.tests.size()) + 5;
    run.rule.kind = options.checker.empty() ? problem.comparison : ComparisonKind::checker;
    run.rule.checker = options.checker;
    if (options.float_tolerance > 0 && options.checker.empty()) {
      run.rule.kind = ComparisonKind::tokens;
      run.rule.float_tolerance = options.float_tolerance;
    }
    out.judgement = judge_program(sandbox, program, problem.tests, run);
    verdict.status = std::string(execution_status_name(out.judgement.status));
    if (out.judgement.status != ExecutionStatus::sandbox_error) {
      verdict.tests_passed = out.judgement.passed;
      verdict.tests_total = static_cast<int>(problem.tests.size());
    }
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
