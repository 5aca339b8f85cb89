// Sandbox cost, side by side in one run:
//   BM_Spawn/bare      the same program, same input, started without any sandbox (posix_spawn + pipes + wait)
//   BM_Spawn/sandbox   through code::Sandbox (bubblewrap, namespaces, rlimits, uid switch)
// for a compiled C++ program and for python3; the difference of the two means is the sandbox's overhead.
//   BM_JudgeLiveCodeBench/threads/warm   our Python LiveCodeBench solutions (tests/data/code/livecodebench/
//                                   *.ok.py) on their public tests with LiveCodeBench's import prelude, all
//                                   programs judged by `threads` workers at once: executions per second
//                                   across all cores; warm = 1 runs each test as a fork of a warm sandboxed
//                                   interpreter (the default), 0 a fresh sandbox and interpreter per test.
// `sandbox_throughput --write-lcb-jobs=FILE` writes the same programs and tests as JSONL for
// bench/lcb_checker_peer.py (LiveCodeBench's own checker) and exits; bench/run_sandbox_bench.sh runs both.
#include <benchmark/benchmark.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string_view>
#include <thread>

#include <boost/process/search_path.hpp>
#include <nlohmann/json.hpp>

#include "tasks/code/program.h"
#include "tasks/code/sandbox.h"
#include "tasks/code/test_runner.h"
#include "tasks/code/warm_python.h"
#include "tasks/code_task.h"
#include "tasks/registry.h"

namespace {

using namespace r1lab;
namespace fs = std::filesystem;

const std::string kInput = "4\n8 2 5 1\n";
const char* kCpp = "#include <bits/stdc++.h>\nint main(){int n;std::cin>>n;long long s=0,x;for(int i=0;i<n;++i){std::cin>>x;s+=x;}std::cout<<s<<\"\\n\";}\n";
const char* kPython = "n = int(input())\nprint(sum(map(int, input().split())))\n";

// Starts `argv` with stdin from a pipe and stdout to a pipe, feeds `input`, reads everything, waits.
void bare_spawn(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, in[1]);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The environment the sandbox gives its programs, so both sides start the same interpreter the same way.
  static std::vector<std::string> env_text = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8", "TMPDIR=/tmp",
                                              "PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"};
  std::vector<char*> env;
  for (auto& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid;
  posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  ssize_t ignored = write(in[1], input.data(), input.size());
  (void)ignored;
  close(in[1]);
  char buffer[4096];
  while (read(out[0], buffer, sizeof buffer) > 0) {}
  close(out[0]);
  waitpid(pid, nullptr, 0);
}

void BM_Spawn(benchmark::State& state) {
  bool sandboxed = state.range(0) == 1;
  bool cpp = state.range(1) == 1;
  code::Sandbox sandbox(code::SandboxMode::bubblewrap);
  code::Program program = code::prepare_program(sandbox, cpp ? code::Language::cpp : code::Language::python, cpp ? kCpp : kPython);
  // The interpreter the sandbox finds on its PATH (this process's PATH may lead elsewhere, e.g. a pyenv shim).
  std::string python = boost::process::search_path("python3", {"/usr/local/bin", "/usr/bin", "/bin"}).string();
  std::vector<std::string> bare_argv = cpp ? std::vector<std::string>{(program.folder / "prog").string()}
                                           : std::vector<std::string>{python, "-B", (program.folder / "main.py").string()};
  code::ExecutionRequest request;
  request.argv = program.argv;
  request.code_dir = program.folder;
  request.stdin_data = kInput;
  for (auto _ : state) {
    if (sandboxed) {
      auto result = sandbox.run(request);
      if (result.stdout_data != "16\n") state.SkipWithError(("sandboxed run failed: " + result.detail).c_str());
    } else {
      bare_spawn(bare_argv, kInput);
    }
  }
  state.SetLabel(std::string(sandboxed ? "sandbox" : "bare") + "/" + (cpp ? "cpp" : "python"));
}
BENCHMARK(BM_Spawn)->ArgsProduct({{0, 1}, {1, 0}})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(300);

struct Job {
  std::string id;
  std::string source;                 // as the model wrote it, without the prelude
  std::string function_name;          // functional problems
  code::Program program;
  std::vector<code::TestCase> tests;
};

// Our Python reference solutions with their problems' public tests, prepared once.
const std::vector<Job>& livecodebench_jobs() {
  static const std::vector<Job> jobs = [] {
    auto task = tasks::make_task("livecodebench");
    task->load(tasks::DataDirectory(R1LAB_SHARED_DATA, "bench"));
    const auto& code_task = dynamic_cast<const tasks::CodeTask&>(*task);
    code::Sandbox sandbox(code::SandboxMode::bubblewrap);
    std::vector<Job> out;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(fs::path(R1LAB_TEST_DATA) / "code/livecodebench"))
      if (entry.path().filename().string().find(".ok.py") != std::string::npos) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::string name = path.filename().string();
      std::string id = name.substr(0, name.find('.'));
      for (const auto& p : task->problems()) {
        if (p.id != id) continue;
        const auto& problem = code_task.code_problem(p);
        std::ifstream in(path);
        std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::map<std::string, std::string> files_beside;
        std::string main = "main.py";
        bool functional = problem.tests.front().kind == code::TestKind::functional;
        if (functional) {
          files_beside["driver.py"] = code::functional_test_driver(problem.function_name);
          main = "driver.py";
        }
        out.push_back({id, source, functional ? problem.function_name : "",
                       code::prepare_program(sandbox, code::Language::python, problem.python_prelude + source, {}, files_beside, main),
                       problem.tests});
      }
    }
    return out;
  }();
  return jobs;
}

void write_jobs_for_the_peer(const std::string& path) {
  std::ofstream out(path);
  for (const Job& job : livecodebench_jobs()) {
    nlohmann::json io = {{"inputs", nlohmann::json::array()}, {"outputs", nlohmann::json::array()}};
    for (const auto& test : job.tests) {
      io["inputs"].push_back(test.input);
      io["outputs"].push_back(test.output);
    }
    if (!job.function_name.empty()) io["fn_name"] = job.function_name;
    out << nlohmann::json{{"id", job.id}, {"code", job.source}, {"input_output", io.dump()}}.dump() << "\n";
  }
  if (!out) throw std::runtime_error("cannot write " + path);
}

void BM_JudgeLiveCodeBench(benchmark::State& state) {
  const std::vector<Job>& jobs = livecodebench_jobs();
  code::Sandbox sandbox(code::SandboxMode::bubblewrap);
  int threads = static_cast<int>(state.range(0));
  bool warm = state.range(1) == 1;
  std::int64_t executions = 0;
  std::atomic<int> failures{0};
  for (auto _ : state) {
    std::atomic<std::size_t> next{0};
    std::atomic<std::int64_t> done{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        code::TestRunOptions options;
        options.limits.cpu_seconds = 6;
        options.warm_python = warm;
        for (std::size_t i = next++; i < jobs.size(); i = next++) {
          auto judgement = code::judge_program(sandbox, jobs[i].program, jobs[i].tests, options);
          done += static_cast<std::int64_t>(judgement.tests.size());
          if (judgement.status != code::ExecutionStatus::ok) ++failures;
        }
        // A zygote ends with the thread that started it (its parent-death signal): the next iteration's
        // threads start their own, as grading processes do once.
        code::stop_warm_interpreters();
      });
    for (auto& w : workers) w.join();
    executions += done;
  }
  if (failures > 0) state.SkipWithError("a reference solution failed");
  state.counters["executions_per_s"] = benchmark::Counter(static_cast<double>(executions), benchmark::Counter::kIsRate);
  state.counters["programs"] = static_cast<double>(jobs.size());
}
BENCHMARK(BM_JudgeLiveCodeBench)
    ->ArgsProduct({{1, static_cast<int>(std::thread::hardware_concurrency())}, {0, 1}})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view kWriteJobs = "--write-lcb-jobs=";
  if (argc == 2 && std::string_view(argv[1]).substr(0, kWriteJobs.size()) == kWriteJobs) {
    write_jobs_for_the_peer(std::string(argv[1] + kWriteJobs.size()));
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
