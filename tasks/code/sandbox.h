// tasks/code/sandbox.h — run one untrusted program under bubblewrap with hard limits, and report what it did.
//
// Each execution is a fresh process tree, launched with Boost.Process:
//   [r1lab] --fork--> bwrap (own user, pid, net, ipc, uts namespaces) --> the program
// Design goals: a hostile program cannot hurt the machine, the harness or other executions, and the
// result says exactly why it stopped. The per-execution cost is a few milliseconds (bench/sandbox_*).
//
// Covered (docs/sandbox.md lists the adversarial test for each):
//   - Filesystem: the program sees /usr (read-only), a minimal /dev, its own /proc, its code folder
//     (read-only, /code) and a private size-capped tmpfs at /tmp that vanishes with it. /etc, /home,
//     /root, /work, the checkout and the data directory do not exist inside.
//   - Network: a new network namespace with nothing in it, not even a working loopback.
//   - Processes: a new pid namespace in which the program itself is pid 1 (--as-pid-1, so that bwrap
//     reaps it and wait4 reports the program's CPU time and peak memory); when it ends or is killed,
//     every process left in the namespace is killed by the kernel. The program cannot see or signal
//     anything outside. (As pid 1 it ignores signals it sends itself without a handler; faults and
//     SIGKILL from the kernel still end it.)
//   - Identity: when r1lab runs as root, each execution runs as its own unprivileged uid (kUidBase + the
//     launcher's pid), so the process-count limit really counts only that execution's processes and no
//     file owned by root outside can be written even through a bug in the mount set-up.
//   - Limits (setrlimit, soft = hard except CPU): CPU seconds, address space, file size, processes,
//     open files, stack = address space, no core files; a wall-clock deadline that kills the whole tree;
//     stdout captured up to a cap (over it: output_limit and the tree is killed), stderr truncated.
//   - A cleared environment (PATH, HOME=/tmp, LANG, PYTHON* only); no inherited file descriptors but
//     stdin/stdout/stderr.
// Not covered:
//   - Kernel exploits and side channels (no seccomp filter, no cgroup): the kernel is the boundary.
//   - Exact memory accounting: the limit is on address space (RLIMIT_AS), so memory_limit is inferred
//     from the allocation failure the program reports (MemoryError, std::bad_alloc) or its peak RSS.
//   - CPU contention between parallel executions: times are per process, not isolated cores.
//   - In rlimits_only mode (no user namespaces; only with explicit consent) there are no namespaces:
//     the program sees the real filesystem with the permissions of its uid and has the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1lab::code {

enum class SandboxMode {
  bubblewrap,     // namespaces + rlimits (the default; required unless the user opts out)
  rlimits_only,   // rlimits, own session and (as root) own uid only; weaker, recorded in results.json
};
std::string_view sandbox_mode_name(SandboxMode mode);

enum class ExecutionStatus {
  ok,              // exited 0 (for a test: the output matched)
  wrong_answer,    // set by the comparison, never by the sandbox
  time_limit,      // CPU limit or wall-clock deadline
  memory_limit,    // allocation failed at the address-space limit
  runtime_error,   // non-zero exit or killed by a signal
  compile_error,   // set by the compiler step
  output_limit,    // stdout over its cap
  sandbox_error,   // the sandbox itself could not start the program
};
std::string_view execution_status_name(ExecutionStatus status);

struct ExecutionLimits {
  double cpu_seconds = 6;
  double wall_seconds = 0;                           // 0: 2 x cpu_seconds + 1
  std::size_t memory_bytes = std::size_t{1} << 30;   // address space
  // Main-thread stack: 0 is the address-space limit (judges' convention for C++); kUnlimitedStack sets
  // none of its own (the address space still bounds it). Python needs the latter: glibc sizes a new
  // thread's default stack by this limit, so with the whole address space no thread could ever start.
  std::size_t stack_bytes = 0;
  std::size_t file_size_bytes = std::size_t{64} << 20;
  std::size_t tmp_bytes = std::size_t{64} << 20;     // size of the private /tmp
  int processes = 32;
  int open_files = 64;
  std::size_t stdout_bytes = std::size_t{64} << 20;
  std::size_t stderr_bytes = std::size_t{64} << 10;
};

inline constexpr std::size_t kUnlimitedStack = ~std::size_t{0};

struct ExecutionRequest {
  // argv[0] is looked up on the sandbox's PATH. The strings "{code}" and "{out}" in any argument are
  // replaced by where code_dir and output_dir are seen from inside.
  std::vector<std::string> argv;
  std::filesystem::path code_dir;      // read-only inside (required)
  std::filesystem::path output_dir;    // writable inside when not empty (compilers)
  std::string stdin_data;
  ExecutionLimits limits;
  std::vector<std::pair<std::string, std::string>> extra_environment;
};

struct ExecutionResult {
  ExecutionStatus status = ExecutionStatus::sandbox_error;
  int exit_code = -1;            // when it exited
  int signal = 0;                // when a signal ended it
  double wall_seconds = 0;
  double cpu_seconds = 0;        // user + system, whole tree
  std::size_t peak_memory_bytes = 0;   // peak RSS of the largest process in the tree
  std::string stdout_data;
  std::string stderr_data;       // at most limits.stderr_bytes
  bool stderr_truncated = false;
  std::string detail;            // one line on why, for time_limit, memory_limit, sandbox_error, ...
};

// A process started in the sandbox that the caller talks to through its pipes (the warm interpreter of
// tasks/code/warm_python.h), rather than one run to completion.
struct SandboxedProcess {
  int pid = -1;
  int stdin_fd = -1;          // our write end
  int stdout_fd = -1;         // our read ends
  int stderr_fd = -1;
  std::uint32_t uid = 0;      // the execution's uid when started as root, else 0
};

class Sandbox {
 public:
  // Throws std::runtime_error when the mode cannot work here (bubblewrap missing or unable to create
  // namespaces), with what to install or which flag accepts the weaker mode.
  explicit Sandbox(SandboxMode mode);
  SandboxMode mode() const { return mode_; }

  // Runs one program. Never throws for anything the program does; problems of the sandbox itself come
  // back as sandbox_error.
  ExecutionResult run(const ExecutionRequest& request) const;

  // Starts request.argv in the sandbox (bubblewrap only) and returns at once; no deadline is watched.
  // The limits are ceilings: they are soft limits with the hard ones left as they are, so that the process
  // can set each child's own (lower or higher) limits. An empty code_dir gives a private writable tmpfs at
  // /code instead. Throws std::runtime_error when the process cannot be started.
  SandboxedProcess start(const ExecutionRequest& request) const;
  // Kills a started process with everything it started, reaps it and closes its pipes.
  static void stop(SandboxedProcess& process);

  // Whether bubblewrap can create namespaces on this machine (runs `true` in it once).
  static bool bubblewrap_works(std::string* why_not = nullptr);

 private:
  struct BubblewrapProbe {
    bool works = false;
    std::string path;      // of bwrap
    std::string why_not;
  };
  static const BubblewrapProbe& probe_bubblewrap();
  SandboxMode mode_;
  std::string bwrap_path_;
};

// Sets result.status and result.detail from how a program ended: result's exit_code, signal, cpu_seconds,
// peak_memory_bytes and stderr_data, and whether the supervisor killed it for the wall-clock deadline
// (wall_limit seconds) or for its output. Shared by Sandbox::run and the warm interpreter.
void classify_execution(ExecutionResult& result, const ExecutionLimits& limits, double wall_limit, bool killed_for_wall,
                        bool killed_for_output);

// The first uid used for executions when running as root.
inline constexpr std::uint32_t kUidBase = 100000000;

}  // namespace r1lab::code
