// Sandbox cost, side by side in one run:
//   BM_Spawn/bare      the same program, same input, started without any sandbox (posix_spawn + pipes + wait)
//   BM_Spawn/sandbox   through code::Sandbox (bubblewrap, namespaces, rlimits, uid switch)
// for a compiled C++ program and for python3; the difference of the two means is the sandbox's overhead.
//   BM_JudgeLiveCodeBench/threads   our LiveCodeBench solutions (tests/data/code/livecodebench/*.ok.*) on
//                                   their public tests, all programs judged by `threads` workers at once:
//                                   executions per second across all cores.
#include <benchmark/benchmark.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/process/search_path.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tasks/code/program.h"
#include "tasks/code/sandbox.h"
#include "tasks/code/test_runner.h"
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
  code::Program program;
  std::vector<code::TestCase> tests;
};

void BM_JudgeLiveCodeBench(benchmark::State& state) {
  auto task = tasks::make_task("livecodebench");
  task->load(tasks::DataDirectory(R1LAB_SHARED_DATA, "bench"));
  const auto& code_task = dynamic_cast<const tasks::CodeTask&>(*task);
  code::Sandbox sandbox(code::SandboxMode::bubblewrap);
  std::vector<Job> jobs;
  for (const auto& entry : fs::directory_iterator(fs::path(R1LAB_TEST_DATA) / "code/livecodebench")) {
    std::string name = entry.path().filename().string();
    if (name.find(".ok.") == std::string::npos) continue;
    std::string id = name.substr(0, name.find('.'));
    for (const auto& p : task->problems()) {
      if (p.id != id) continue;
      const auto& problem = code_task.code_problem(p);
      std::ifstream in(entry.path());
      std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      bool python = entry.path().extension() == ".py";
      std::map<std::string, std::string> files;
      std::string main = "main.py";
      if (python && problem.tests.front().kind == code::TestKind::functional) {
        files["driver.py"] = code::functional_test_driver(problem.function_name);
        main = "driver.py";
      }
      jobs.push_back({code::prepare_program(sandbox, python ? code::Language::python : code::Language::cpp,
                                            python ? problem.python_prelude + source : source, {}, files, main),
                      problem.tests});
    }
  }
  int threads = static_cast<int>(state.range(0));
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
        for (std::size_t i = next++; i < jobs.size(); i = next++) {
          auto judgement = code::judge_program(sandbox, jobs[i].program, jobs[i].tests, options);
          done += static_cast<std::int64_t>(judgement.tests.size());
          if (judgement.status != code::ExecutionStatus::ok) ++failures;
        }
      });
    for (auto& w : workers) w.join();
    executions += done;
  }
  if (failures > 0) state.SkipWithError("a reference solution failed");
  state.counters["executions_per_s"] = benchmark::Counter(static_cast<double>(executions), benchmark::Counter::kIsRate);
  state.counters["programs"] = static_cast<double>(jobs.size());
}
BENCHMARK(BM_JudgeLiveCodeBench)->Arg(1)->Arg(static_cast<int>(std::thread::hardware_concurrency()))
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
