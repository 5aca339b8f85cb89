// The sandbox against hostile programs: one property per test, each contained, the harness unaffected.
// docs/sandbox.md lists these with their outcomes. Needs bubblewrap with user namespaces (as CI has).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tasks/code/program.h"
#include "tasks/code/sandbox.h"

namespace r1lab::code {
namespace {

class SandboxAdversarial : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Sandbox::bubblewrap_works()) GTEST_SKIP() << "bubblewrap cannot run here";
  }
  ExecutionResult run_python(const std::string& source, double cpu = 2, std::size_t memory_mb = 512) {
    Sandbox sandbox(SandboxMode::bubblewrap);
    Program program = prepare_program(sandbox, Language::python, source);
    ExecutionRequest request;
    request.argv = program.argv;
    request.code_dir = program.folder;
    request.limits.cpu_seconds = cpu;
    request.limits.memory_bytes = memory_mb << 20;
    return sandbox.run(request);
  }
  // Processes whose command line mentions `marker`, outside the sandbox.
  static int processes_mentioning(const std::string& marker) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      std::ifstream in(entry.path() / "cmdline");
      std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (cmdline.find(marker) != std::string::npos) ++count;
    }
    return count;
  }
};

TEST_F(SandboxAdversarial, ForkBombIsContainedAndLeavesNothing) {
  auto result = run_python(
      "import os\n# r1lab-forkbomb-marker\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", 1);
  EXPECT_TRUE(result.status == ExecutionStatus::time_limit || result.status == ExecutionStatus::runtime_error)
      << execution_status_name(result.status);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(processes_mentioning("r1lab-forkbomb-marker"), 0);
}

TEST_F(SandboxAdversarial, InfiniteLoopHitsTheCpuLimit) {
  auto result = run_python("while True:\n    pass\n", 1);
  EXPECT_EQ(result.status, ExecutionStatus::time_limit);
  EXPECT_GE(result.cpu_seconds, 0.9);
  EXPECT_LT(result.wall_seconds, 2.5);
}

TEST_F(SandboxAdversarial, SleepingForeverHitsTheWallClockDeadline) {
  auto result = run_python("import time\ntime.sleep(10**6)\n", 0.5);
  EXPECT_EQ(result.status, ExecutionStatus::time_limit);
  EXPECT_NE(result.detail.find("wall-clock"), std::string::npos) << result.detail;
  EXPECT_LT(result.wall_seconds, 3.0);
}

TEST_F(SandboxAdversarial, AllocatingTenGibIsAMemoryLimit) {
  auto result = run_python("x = bytearray(10 * 2**30)\nprint(len(x))\n");
  EXPECT_EQ(result.status, ExecutionStatus::memory_limit) << result.detail << result.stderr_data;
}

TEST_F(SandboxAdversarial, FillingTheDiskStopsAtTheTmpQuota) {
  struct statvfs before {};
  statvfs("/tmp", &before);
  auto result = run_python(
      "import os\nwritten = 0\ntry:\n    with open('/tmp/fill', 'wb') as f:\n        while True:\n"
      "            f.write(b'x' * (1 << 20)); f.flush(); written += 1\nexcept OSError as e:\n    print('stopped', written, e.errno)\n"
      "for path in ['/fill', '/usr/fill', '/code/fill']:\n    try:\n        open(path, 'wb').write(b'x')\n        print('WROTE', path)\n"
      "    except OSError:\n        pass\n", 5);
  EXPECT_NE(result.stdout_data.find("stopped"), std::string::npos) << result.stdout_data << result.stderr_data;
  EXPECT_EQ(result.stdout_data.find("WROTE"), std::string::npos) << result.stdout_data;
  struct statvfs after {};
  statvfs("/tmp", &after);
  double lost_mb = (static_cast<double>(before.f_bavail) - static_cast<double>(after.f_bavail)) * static_cast<double>(before.f_frsize) / (1 << 20);
  EXPECT_LT(lost_mb, 32) << "the host's /tmp lost space";
}

TEST_F(SandboxAdversarial, GigabytesOfStdoutAreCutAtTheCap) {
  auto result = run_python("import sys\nblock = 'y' * 65536\nwhile True:\n    sys.stdout.write(block)\n", 5);
  EXPECT_EQ(result.status, ExecutionStatus::output_limit);
  EXPECT_LE(result.stdout_data.size(), ExecutionLimits{}.stdout_bytes);
}

TEST_F(SandboxAdversarial, NothingOutsideTheSandboxCanBeReadOrWritten) {
  std::string checkout = std::filesystem::absolute(R1LAB_SOURCE_DIR).string();
  std::string home = std::getenv("HOME") != nullptr ? std::getenv("HOME") : "/root";
  std::string source = "import os\nfor path in ['/etc/passwd', '/etc/hostname', '" + home + "', '" + checkout + "/CMakeLists.txt', '" +
                       checkout + "/../shared/data/MANIFEST.md', '/work']:\n"
                       "    try:\n        open(path).read() if os.path.isfile(path) else os.listdir(path)\n        print('READ', path)\n"
                       "    except OSError:\n        pass\n"
                       "for path in ['/etc/r1lab-x', '" + home + "/r1lab-x', '" + checkout + "/r1lab-x']:\n"
                       "    try:\n        open(path, 'w').write('x')\n        print('WROTE', path)\n    except OSError:\n        pass\n"
                       "print('done')\n";
  auto result = run_python(source);
  EXPECT_EQ(result.status, ExecutionStatus::ok) << result.stderr_data;
  EXPECT_EQ(result.stdout_data, "done\n");
  EXPECT_FALSE(std::filesystem::exists(checkout + "/r1lab-x"));
}

TEST_F(SandboxAdversarial, NoNetworkEvenToAPortTheTestListensOn) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  auto result = run_python("import socket\nfor port in [" + std::to_string(port) + ", 80, 53]:\n    try:\n"
                           "        socket.create_connection(('127.0.0.1', port), timeout=1)\n        print('CONNECTED', port)\n"
                           "    except OSError:\n        pass\nprint('done')\n");
  close(listener);
  EXPECT_EQ(result.stdout_data, "done\n") << result.stderr_data;
}

TEST_F(SandboxAdversarial, SignallingTheParentOrEveryoneHurtsNoOneOutside) {
  std::string me = std::to_string(getpid());
  auto result = run_python("import os, signal\nfor pid in [os.getppid(), " + me + ", -1]:\n    try:\n"
                           "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\nprint('alive')\n");
  // We are still here to check; the program may have killed only itself.
  EXPECT_TRUE(result.status == ExecutionStatus::ok || result.status == ExecutionStatus::runtime_error)
      << execution_status_name(result.status);
}

TEST_F(SandboxAdversarial, ADaemonLeftBehindIsKilled) {
  auto result = run_python(
      "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
      "        os.execvp('sleep', ['sleep', '777.123'])\n    os._exit(0)\nprint('parent exits')\n");
  EXPECT_EQ(result.status, ExecutionStatus::ok);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(processes_mentioning("777.123"), 0);
}

TEST_F(SandboxAdversarial, RaisingItsOwnLimitsFails) {
  auto result = run_python(
      "import resource\nfor limit in [resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE]:\n"
      "    soft, hard = resource.getrlimit(limit)\n    try:\n"
      "        resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))\n        print('RAISED', limit)\n"
      "    except (ValueError, OSError):\n        pass\nprint('done')\n");
  EXPECT_EQ(result.stdout_data, "done\n") << result.stderr_data;
}

TEST_F(SandboxAdversarial, ClosingStdoutEarlyEndsNormally) {
  auto result = run_python("import os, time\nprint('before', flush=True)\nos.close(1)\nos.close(2)\ntime.sleep(0.2)\n");
  EXPECT_EQ(result.status, ExecutionStatus::ok);
  EXPECT_EQ(result.stdout_data, "before\n");
}

TEST_F(SandboxAdversarial, TheEnvironmentIsCleared) {
  setenv("R1LAB_TEST_SECRET", "hunter2", 1);
  auto result = run_python("import os\nprint(sorted(k for k in os.environ if 'SECRET' in k or 'TOKEN' in k))\n");
  EXPECT_EQ(result.stdout_data, "[]\n");
}

TEST_F(SandboxAdversarial, ReadingStdinThatIsNeverClosedDoesNotHang) {
  Sandbox sandbox(SandboxMode::bubblewrap);
  Program program = prepare_program(sandbox, Language::python, "import sys\ndata = sys.stdin.read()\nprint(len(data))\n");
  ExecutionRequest request;
  request.argv = program.argv;
  request.code_dir = program.folder;
  request.stdin_data = std::string(1 << 20, 'a');   // more than a pipe buffer
  auto result = sandbox.run(request);
  EXPECT_EQ(result.status, ExecutionStatus::ok);
  EXPECT_EQ(result.stdout_data, std::to_string(1 << 20) + "\n");
}

TEST(SandboxModes, RlimitsOnlyModeStillEnforcesLimits) {
  Sandbox sandbox(SandboxMode::rlimits_only);
  Program program = prepare_program(sandbox, Language::python, "while True:\n    pass\n");
  ExecutionRequest request;
  request.argv = program.argv;
  request.code_dir = program.folder;
  request.limits.cpu_seconds = 1;
  EXPECT_EQ(sandbox.run(request).status, ExecutionStatus::time_limit);
}

TEST(SandboxModes, CompileErrorsAreReportedAndCached) {
  if (!Sandbox::bubblewrap_works()) GTEST_SKIP();
  Sandbox sandbox(SandboxMode::bubblewrap);
  std::string source = "int main() { return undefined_name_" + std::to_string(getpid()) + "; }\n";
  Program first = prepare_program(sandbox, Language::cpp, source);
  EXPECT_FALSE(first.ok);
  EXPECT_EQ(first.compile.status, ExecutionStatus::compile_error);
  EXPECT_NE(first.compile.stderr_data.find("undefined_name_"), std::string::npos);
  Program second = prepare_program(sandbox, Language::cpp, source);
  EXPECT_TRUE(second.compile_cached);
  EXPECT_EQ(second.compile.status, ExecutionStatus::compile_error);
}

}  // namespace
}  // namespace r1lab::code
