// Grading throughput of r1lab on real completions, one core: every MATH-500 sample of the SkyThought files
// (extraction + equivalence + the restated-question check, exactly what `r1lab score` does per sample). Also
// reports the slowest single call. The Math-Verify side of the comparison is bench/grading_throughput_peer.py, run by bench/run_grading_bench.sh.
#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tasks/grading/math_grader.h"

namespace {

struct Case {
  std::string reference, completion, question;
};

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  const char* env = std::getenv("R1LAB_DATA");
  std::filesystem::path root = std::filesystem::path(env ? env : R1LAB_SHARED_DATA) / "model_outputs" / "skythought";
  for (const auto& model : std::filesystem::directory_iterator(root)) {
    std::ifstream in(model.path() / "math500.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto record = nlohmann::json::parse(line);
      cases.push_back({record["answer"].get<std::string>(), record["code"][0].get<std::string>(),
                       record["question"].get<std::string>()});
    }
  }
  return cases;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = load_cases();
  return all;
}

void BM_GradeSkyThoughtMath500(benchmark::State& state) {
  r1lab::grading::MathGradingOptions options;
  options.think_policy = r1lab::grading::ThinkPolicy::none;
  options.fallback_extraction = state.range(0) == 1;
  double slowest_ms = 0;
  std::size_t graded = 0;
  for (auto _ : state) {
    for (const auto& c : cases()) {
      auto start = std::chrono::steady_clock::now();
      auto verdict = r1lab::grading::grade_math(c.completion, c.reference, options, {}, c.question);
      slowest_ms = std::max(slowest_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
      benchmark::DoNotOptimize(verdict);
      ++graded;
    }
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(graded), benchmark::Counter::kIsRate);
  state.counters["samples"] = static_cast<double>(cases().size());
  state.counters["slowest_call_ms"] = slowest_ms;
}
BENCHMARK(BM_GradeSkyThoughtMath500)->Arg(0)->Arg(1)->ArgName("fallback")->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The adversarial inputs: each must end well inside the deadline.
void BM_GradeAdversarial(benchmark::State& state) {
  static const std::vector<std::string> inputs = {"\\boxed{5^{5^{5^5}}}", "\\boxed{100000!}", "\\boxed{2^{10^{9}}}",
                                                  "\\boxed{" + std::string(200, '(') + "1" + std::string(200, ')') + "}",
                                                  "\\boxed{(x+1)^{1000}}"};
  r1lab::grading::MathGradingOptions options;
  options.think_policy = r1lab::grading::ThinkPolicy::none;
  const std::string& input = inputs[static_cast<std::size_t>(state.range(0))];
  for (auto _ : state) benchmark::DoNotOptimize(r1lab::grading::grade_math(input, "1", options));
}
BENCHMARK(BM_GradeAdversarial)->DenseRange(0, 4)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
