// Python tests as forks of a warm sandboxed interpreter (tasks/code/warm_python.h): each property a test
// must keep from a cold execution, and what one test must never leave to the next. Needs bubblewrap.
#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <vector>

#include "tasks/code/program.h"
#include "tasks/code/sandbox.h"
#include "tasks/code/warm_python.h"

namespace r1lab::code {
namespace {

class WarmPython : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Sandbox::bubblewrap_works()) GTEST_SKIP() << "bubblewrap cannot run here";
  }
  static ExecutionResult run(const std::string& source, const std::string& input = "", double cpu = 2, std::size_t memory_mb = 512,
                             double wall = 0) {
    Sandbox sandbox(SandboxMode::bubblewrap);
    Program program = prepare_program(sandbox, Language::python, source);
    ExecutionLimits limits;
    limits.cpu_seconds = cpu;
    limits.wall_seconds = wall;
    limits.memory_bytes = memory_mb << 20;
    auto result = run_warm(sandbox, program, input, limits);
    EXPECT_TRUE(result.has_value()) << "no warm interpreter served the test";
    return result.value_or(ExecutionResult{});
  }
};

TEST_F(WarmPython, RunsAProgramOnItsInput) {
  auto result = run("n = int(input())\nprint(sum(map(int, input().split())) * n)\n", "2\n3 4\n");
  EXPECT_EQ(result.status, ExecutionStatus::ok) << result.detail << result.stderr_data;
  EXPECT_EQ(result.stdout_data, "14\n");
}

TEST_F(WarmPython, StandardStreamsAreTheInterpretersOwn) {
  // Text streams as python3 makes them: UTF-8, no newline translation, open(0) and sys.stdin.buffer work,
  // __name__ is __main__ and the script's folder is first on sys.path.
  auto result = run("import sys, os\nraw = open(0, 'rb').read()\nprint(repr(raw))\nprint(__name__, sys.path[0], sys.argv[0])\n"
                    "print(sys.stdin.encoding, sys.stdout.encoding, os.getcwd())\nprint('é')\n",
                    "a\r\nb\n");
  EXPECT_EQ(result.status, ExecutionStatus::ok) << result.stderr_data;
  EXPECT_EQ(result.stdout_data, "b'a\\r\\nb\\n'\n__main__ /code /code/main.py\nutf-8 utf-8 /tmp\né\n");
}

TEST_F(WarmPython, ExitStatusesAsTheInterpreterGivesThem) {
  EXPECT_EQ(run("import sys\nprint('x')\nsys.exit(3)\n").exit_code, 3);
  auto message = run("import sys\nsys.exit('went wrong')\n");
  EXPECT_EQ(message.exit_code, 1);
  EXPECT_NE(message.stderr_data.find("went wrong"), std::string::npos);
  auto raised = run("print('before')\nraise ValueError('boom')\n");
  EXPECT_EQ(raised.status, ExecutionStatus::runtime_error);
  EXPECT_EQ(raised.stdout_data, "before\n");   // flushed at exit, as the interpreter does
  EXPECT_NE(raised.stderr_data.find("ValueError: boom"), std::string::npos);
  // atexit functions and non-daemon threads run before the process ends.
  auto shutdown = run("import atexit, threading, time\natexit.register(lambda: print('atexit'))\n"
                      "threading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()\n");
  EXPECT_EQ(shutdown.status, ExecutionStatus::ok) << shutdown.stderr_data;
  EXPECT_EQ(shutdown.stdout_data, "thread\natexit\n") << shutdown.stderr_data;
}

TEST_F(WarmPython, LimitsHoldPerTest) {
  EXPECT_EQ(run("while True:\n    pass\n", "", 1).status, ExecutionStatus::time_limit);
  auto asleep = run("import time\ntime.sleep(30)\n", "", 1, 512, 1.5);
  EXPECT_EQ(asleep.status, ExecutionStatus::time_limit);
  EXPECT_LT(asleep.wall_seconds, 5);
  EXPECT_EQ(run("x = bytearray(10 << 30)\n", "", 2, 256).status, ExecutionStatus::memory_limit);
  auto flood = run("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", "", 5);
  EXPECT_EQ(flood.status, ExecutionStatus::output_limit);
  // A deep recursion under LiveCodeBench's raised limit uses the test's stack, not the zygote's.
  auto deep = run("import sys\nsys.setrecursionlimit(50000)\ndef f(n):\n    return 0 if n == 0 else 1 + f(n - 1)\nprint(f(20000))\n");
  EXPECT_EQ(deep.status, ExecutionStatus::ok) << deep.detail << deep.stderr_data;
  EXPECT_EQ(deep.stdout_data, "20000\n");
}

TEST_F(WarmPython, FeedsALargeInputCompletely) {
  std::string input(1 << 20, 'a');
  input += "\n";
  auto result = run("import sys\nprint(len(sys.stdin.read()))\n", input);
  EXPECT_EQ(result.stdout_data, std::to_string(input.size()) + "\n");
}

TEST_F(WarmPython, NothingOfOneTestReachesTheNext) {
  // Files in every writable folder, a daemon, a module's state and a System V segment, left by one test...
  auto first = run(
      "import os, random, sys, ctypes\n"
      "for folder in ('/tmp', '/code', '/dev/shm'):\n"
      "    try:\n"
      "        open(folder + '/left-behind', 'w').write('x')\n"
      "    except OSError:\n"
      "        pass\n"
      "os.makedirs('/tmp/deep/er', exist_ok=True)\nos.chmod('/tmp/deep', 0)\n"
      "libc = ctypes.CDLL(None)\nprint(libc.shmget(4242, 4096, 0o1600) >= 0)\n"
      "random.seed(7)\nsys.modules['math'].left_behind = True\n"
      "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        import time\n        time.sleep(60)\n    os._exit(0)\n");
  EXPECT_EQ(first.status, ExecutionStatus::ok) << first.stderr_data;
  EXPECT_EQ(first.stdout_data, "True\n");
  // ... are gone for the next, which sees only itself and the zygote (pid 1) in its namespace.
  auto next = run(
      "import os, math, ctypes\n"
      "print(sorted(f for d in ('/tmp', '/code', '/dev/shm') if os.path.isdir(d) for f in os.listdir(d)))\n"
      "print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == sorted({1, os.getpid()}))\n"
      "print(hasattr(math, 'left_behind'))\n"
      "print(ctypes.CDLL(None).shmget(4242, 0, 0) < 0)\n");
  EXPECT_EQ(next.status, ExecutionStatus::ok) << next.stderr_data;
  EXPECT_EQ(next.stdout_data, "['main.py']\nTrue\nFalse\nTrue\n");
}

TEST_F(WarmPython, EachTestGetsItsOwnRandomSeed) {
  const std::string source = "import random\nprint(random.getrandbits(64))\n";
  EXPECT_NE(run(source).stdout_data, run(source).stdout_data);
}

TEST_F(WarmPython, TheZygoteIsOutOfThePrograms) {
  // Signals to pid 1 (the zygote) from inside are dropped; its memory and descriptors cannot be opened.
  auto attack = run(
      "import os, signal\n"
      "for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT):\n"
      "    try:\n        os.kill(1, sig)\n    except OSError:\n        pass\n"
      "for path in ('/proc/1/mem', '/proc/1/fd/0', '/proc/1/fd/1', '/proc/1/environ'):\n"
      "    try:\n        open(path, 'rb').read(1)\n        print('opened', path)\n    except OSError:\n        pass\n"
      "print('done')\n");
  EXPECT_EQ(attack.stdout_data, "done\n") << attack.stderr_data;
  auto after = run("print('alive')\n");
  EXPECT_EQ(after.status, ExecutionStatus::ok);
  EXPECT_EQ(after.stdout_data, "alive\n");
}

TEST_F(WarmPython, KillingEverythingItCanReachesOnlyItsOwnProcesses) {
  // kill(-1) from a test reaches every process of the namespace it may signal but pid 1: its own child.
  auto result = run("import os, signal, time\npid = os.fork()\nif pid == 0:\n    time.sleep(30)\n    os._exit(0)\n"
                    "time.sleep(0.05)\nos.kill(-1, signal.SIGKILL)\n_, status = os.waitpid(pid, 0)\n"
                    "print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL)\n");
  EXPECT_EQ(result.status, ExecutionStatus::ok) << result.stderr_data;
  EXPECT_EQ(result.stdout_data, "True\n");
  EXPECT_EQ(run("print('next')\n").stdout_data, "next\n");
}

TEST_F(WarmPython, AProgramThatIsNotPythonRunsCold) {
  Sandbox sandbox(SandboxMode::bubblewrap);
  Program program = prepare_program(sandbox, Language::cpp, "int main() { return 0; }\n");
  EXPECT_FALSE(can_run_warm(sandbox, program));
  EXPECT_FALSE(run_warm(sandbox, program, "", ExecutionLimits{}).has_value());
}

}  // namespace
}  // namespace r1lab::code
