#include "tasks/code/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/search_path.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace r1lab::code {

namespace bp = boost::process;
using Clock = std::chrono::steady_clock;

std::string_view sandbox_mode_name(SandboxMode mode) {
  return mode == SandboxMode::bubblewrap ? "bubblewrap" : "rlimits_only";
}

std::string_view execution_status_name(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::ok: return "ok";
    case ExecutionStatus::wrong_answer: return "wrong_answer";
    case ExecutionStatus::time_limit: return "time_limit";
    case ExecutionStatus::memory_limit: return "memory_limit";
    case ExecutionStatus::runtime_error: return "runtime_error";
    case ExecutionStatus::compile_error: return "compile_error";
    case ExecutionStatus::output_limit: return "output_limit";
    case ExecutionStatus::sandbox_error: return "sandbox_error";
  }
  return "unknown";
}

namespace {

constexpr const char* kPathInside = "/usr/local/bin:/usr/bin:/bin";

// Everything the child needs after fork, prepared before it: the child may only make async-signal-safe
// calls (no allocation), so strings are built here and only their c_str() is used there.
struct ChildPlan {
  ExecutionLimits limits;
  bool drop_privileges = false;   // root: become kUidBase + own pid
  const char* writable_dir = nullptr;   // chown'd to the execution's uid before dropping privileges
  const char* working_dir = nullptr;    // rlimits_only: where the program starts
  int status_fd = -1;                   // bwrap --json-status-fd, kept open across exec
  rlim_t processes = 32;
  bool ceilings = false;                // limits are soft, hard ones kept (a long-lived zygote's)
  pid_t parent = -1;                    // the process that forks the child
};

void set_limit(int resource, rlim_t soft, rlim_t hard) {
  rlimit limit{soft, hard};
  setrlimit(resource, &limit);
}

// A ceiling: the soft limit, under the hard limit the process already has (which it cannot raise).
void set_ceiling(int resource, rlim_t soft) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0) return;
  if (limit.rlim_max != RLIM_INFINITY && soft > limit.rlim_max) soft = limit.rlim_max;
  limit.rlim_cur = soft;
  setrlimit(resource, &limit);
}

// Runs in the child between fork and exec (Boost.Process's on_exec_setup hook).
struct ChildSetup : bp::extend::handler {
  const ChildPlan* plan;
  explicit ChildSetup(const ChildPlan* p) : plan(p) {}

  template <class Executor>
  void on_exec_setup(Executor& exec) const {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &default_action, nullptr);   // r1lab ignores SIGPIPE; the program must not inherit that
    sigaction(SIGINT, &default_action, nullptr);    // nor the grading process's ignored SIGINT/SIGTERM
    sigaction(SIGTERM, &default_action, nullptr);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    setsid();                                        // own process group: killed as one
    prctl(PR_SET_PDEATHSIG, SIGKILL);                // if r1lab dies, so does the execution
    if (getppid() != plan->parent) _exit(127);       // it died before prctl(), which then sends nothing

    const ExecutionLimits& l = plan->limits;
    auto cpu = static_cast<rlim_t>(std::ceil(l.cpu_seconds));
    if (plan->ceilings) {
      set_ceiling(RLIMIT_CPU, cpu);
      set_ceiling(RLIMIT_AS, l.memory_bytes);
      set_ceiling(RLIMIT_STACK, l.stack_bytes == 0 ? l.memory_bytes : static_cast<rlim_t>(l.stack_bytes));
      set_ceiling(RLIMIT_FSIZE, l.file_size_bytes);
      set_ceiling(RLIMIT_NOFILE, static_cast<rlim_t>(l.open_files));
      set_ceiling(RLIMIT_NPROC, plan->processes);
    } else {
      // soft = hard: the program runs as pid 1 of its namespace, which ignores SIGXCPU, so the limit is
      // enforced by the kernel's SIGKILL at the hard limit.
      set_limit(RLIMIT_CPU, cpu, cpu);
      set_limit(RLIMIT_AS, l.memory_bytes, l.memory_bytes);
      const rlim_t stack = l.stack_bytes == 0 ? l.memory_bytes : l.stack_bytes == kUnlimitedStack ? RLIM_INFINITY : l.stack_bytes;
      set_limit(RLIMIT_STACK, stack, stack);
      set_limit(RLIMIT_FSIZE, l.file_size_bytes, l.file_size_bytes);
      set_limit(RLIMIT_NOFILE, static_cast<rlim_t>(l.open_files), static_cast<rlim_t>(l.open_files));
      set_limit(RLIMIT_NPROC, plan->processes, plan->processes);
    }
    set_limit(RLIMIT_CORE, 0, 0);

    if (plan->drop_privileges) {
      auto id = static_cast<uid_t>(kUidBase + static_cast<std::uint32_t>(getpid()));
      if (plan->writable_dir != nullptr && chown(plan->writable_dir, id, id) != 0) {
        exec.set_error(std::error_code(errno, std::system_category()), "chown of the output folder failed");
        return;
      }
      if (setgroups(0, nullptr) != 0 || setgid(id) != 0 || setuid(id) != 0) {
        exec.set_error(std::error_code(errno, std::system_category()), "dropping privileges failed");
        return;
      }
    }
    if (plan->working_dir != nullptr && chdir(plan->working_dir) != 0) {
      exec.set_error(std::error_code(errno, std::system_category()), "chdir failed");
      return;
    }
    // No descriptor but 0, 1, 2 (and bwrap's status pipe) reaches the program. CLOEXEC rather than close,
    // so Boost.Process's own exec-error pipe keeps working until exec.
    if (plan->status_fd >= 3) {
      fcntl(plan->status_fd, F_SETFD, 0);
      if (plan->status_fd > 3) syscall(SYS_close_range, 3u, static_cast<unsigned>(plan->status_fd - 1), CLOSE_RANGE_CLOEXEC);
      syscall(SYS_close_range, static_cast<unsigned>(plan->status_fd + 1), ~0u, CLOSE_RANGE_CLOEXEC);
    } else {
      syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
    }
  }
};

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Kills every process of `uid` (root only): a forked helper becomes that uid and signals everything it
// may, which is exactly that uid's processes. Catches daemons that left the process group.
void kill_all_of_uid(uid_t uid) {
  pid_t helper = fork();
  if (helper == 0) {
    if (setgid(uid) == 0 && setuid(uid) == 0) kill(-1, SIGKILL);
    _exit(0);
  }
  if (helper > 0) waitpid(helper, nullptr, 0);
}

int count_processes_of_current_user() {
  int count = 0;
  uid_t me = getuid();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    struct stat info {};
    if (::stat(entry.path().c_str(), &info) == 0 && info.st_uid == me) ++count;
  }
  return count;
}

bool mentions_allocation_failure(const std::string& text) {
  for (const char* marker : {"MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory",
                             "failed to map segment", "mmap failed"})
    if (text.find(marker) != std::string::npos) return true;
  return false;
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", seconds);
  return text;
}

std::string signal_name(int signal) {
  const char* name = sigabbrev_np(signal);
  return name != nullptr ? std::string("SIG") + name : "signal " + std::to_string(signal);
}

}  // namespace

// Found and tried once per process (forked grading workers inherit the result): every Sandbox, one per
// graded sample, reuses it.
const Sandbox::BubblewrapProbe& Sandbox::probe_bubblewrap() {
  static const BubblewrapProbe probe = [] {
    BubblewrapProbe p;
    p.path = bp::search_path("bwrap").string();
    if (p.path.empty()) {
      p.why_not = "`bwrap` is not on PATH";
      return p;
    }
    std::error_code ec;
    auto folder = std::filesystem::temp_directory_path(ec) / ("r1lab-probe-" + std::to_string(getpid()));
    std::filesystem::create_directories(folder, ec);
    Sandbox sandbox(SandboxMode::rlimits_only);   // constructing rlimits_only never probes
    sandbox.mode_ = SandboxMode::bubblewrap;
    sandbox.bwrap_path_ = p.path;
    ExecutionRequest request;
    request.argv = {"true"};
    request.code_dir = folder;
    request.limits.cpu_seconds = 5;
    ExecutionResult result = sandbox.run(request);
    std::filesystem::remove_all(folder, ec);
    p.works = result.status == ExecutionStatus::ok;
    if (!p.works) {
      std::string why = result.stderr_data.empty() ? result.detail : result.stderr_data;
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      p.why_not = "bubblewrap failed here (" + why + ")";
    }
    return p;
  }();
  return probe;
}

Sandbox::Sandbox(SandboxMode mode) : mode_(mode) {
  if (mode_ != SandboxMode::bubblewrap) return;
  const BubblewrapProbe& probe = probe_bubblewrap();
  if (!probe.works)
    throw std::runtime_error("the code sandbox needs bubblewrap with user namespaces, and " + probe.why_not +
                             ". Install it (apt-get install bubblewrap) and allow user namespaces "
                             "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), or pass "
                             "--sandbox rlimits-only to accept a weaker sandbox (no filesystem or network "
                             "isolation; recorded in results.json)");
  bwrap_path_ = probe.path;
}

bool Sandbox::bubblewrap_works(std::string* why_not) {
  const BubblewrapProbe& probe = probe_bubblewrap();
  if (why_not != nullptr) *why_not = probe.why_not;
  return probe.works;
}

namespace {

// A process just started by launch(): its pid and our ends of its pipes.
struct Launched {
  pid_t pid = -1;
  int in_fd = -1, out_fd = -1, err_fd = -1;
  int status_fd = -1;                   // bwrap's JSON status (run to completion only)
  std::filesystem::path scratch;        // rlimits_only: the program's private temp folder on the host
  std::string error;                    // why it could not start
};

// Builds the command line (bwrap's arguments, then the program's) and starts it with the limits applied
// between fork and exec. `long_lived`: the limits are ceilings, no status pipe, and an empty code_dir
// becomes a writable tmpfs at /code.
Launched launch(SandboxMode mode, const std::string& bwrap_path, const ExecutionRequest& request, bool long_lived) {
  Launched out;
  const ExecutionLimits& limits = request.limits;
  const bool as_root = geteuid() == 0;
  const bool sandboxed = mode == SandboxMode::bubblewrap;
  static const int user_processes = as_root ? 0 : count_processes_of_current_user();

  const std::string code_inside = sandboxed ? "/code" : request.code_dir.string();
  const std::string out_inside = sandboxed ? "/out" : request.output_dir.string();
  std::vector<std::string> program;
  for (const auto& arg : request.argv) program.push_back(replace_all(replace_all(arg, "{code}", code_inside), "{out}", out_inside));
  std::vector<std::pair<std::string, std::string>> environment = {
      {"PATH", kPathInside}, {"HOME", "/tmp"}, {"LANG", "C.UTF-8"}, {"TMPDIR", "/tmp"},
      {"PYTHONDONTWRITEBYTECODE", "1"}, {"PYTHONIOENCODING", "utf-8"}};
  for (const auto& kv : request.extra_environment) environment.push_back(kv);

  std::array<int, 2> status_pipe{-1, -1};
  std::vector<std::string> args;
  std::string exe;
  if (sandboxed) {
    if (!long_lived && pipe2(status_pipe.data(), O_CLOEXEC) != 0) {
      out.error = std::string("pipe2 failed: ") + std::strerror(errno);
      return out;
    }
    exe = bwrap_path;
    args = {"--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--as-pid-1", "--new-session", "--hostname", "sandbox", "--uid", "65534", "--gid", "65534",
            "--ro-bind", "/usr", "/usr", "--proc", "/proc", "--dev", "/dev",
            "--size", std::to_string(limits.tmp_bytes), "--tmpfs", "/tmp"};
    if (request.code_dir.empty()) args.insert(args.end(), {"--size", std::to_string(limits.tmp_bytes), "--tmpfs", "/code"});
    else args.insert(args.end(), {"--ro-bind", request.code_dir.string(), "/code"});
    // Merged-/usr systems have /bin, /lib, ... as links into /usr; older ones have real folders.
    for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
      std::error_code ec;
      auto status = std::filesystem::symlink_status(top, ec);
      if (ec) continue;
      if (std::filesystem::is_symlink(status)) {
        args.insert(args.end(), {"--symlink", std::filesystem::read_symlink(top, ec).string(), top});
      } else if (std::filesystem::is_directory(status)) {
        args.insert(args.end(), {"--ro-bind", top, top});
      }
    }
    if (!request.output_dir.empty()) args.insert(args.end(), {"--bind", request.output_dir.string(), "/out"});
    // bwrap's root is a tmpfs of its own; read-only, or a program could fill memory writing "/x".
    args.insert(args.end(), {"--remount-ro", "/", "--chdir", "/tmp", "--clearenv"});
    for (const auto& [key, value] : environment) args.insert(args.end(), {"--setenv", key, value});
    if (status_pipe[1] >= 0) args.insert(args.end(), {"--json-status-fd", std::to_string(status_pipe[1])});
    args.push_back("--");
    args.insert(args.end(), program.begin(), program.end());
  } else {
    std::error_code ec;
    out.scratch = std::filesystem::temp_directory_path(ec) / ("r1lab-run-" + std::to_string(getpid()) + "-" +
                                                              std::to_string(Clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(out.scratch, ec);
    std::filesystem::permissions(out.scratch, std::filesystem::perms::all, ec);   // the execution's uid writes here
    auto found = program.empty() ? std::filesystem::path() : std::filesystem::path(program[0]);
    if (found.is_relative()) found = bp::search_path(program[0], {"/usr/local/bin", "/usr/bin", "/bin"}).string();
    exe = found.string();
    args.assign(program.begin() + (program.empty() ? 0 : 1), program.end());
  }

  ChildPlan plan;
  plan.parent = getpid();
  plan.limits = limits;
  plan.drop_privileges = as_root;
  plan.status_fd = status_pipe[1];
  plan.ceilings = long_lived;
  // bwrap itself and its namespace init count as processes too.
  plan.processes = static_cast<rlim_t>(limits.processes + (sandboxed ? 3 : 0) + user_processes);
  const std::string writable = request.output_dir.string();
  if (!request.output_dir.empty()) plan.writable_dir = writable.c_str();
  const std::string scratch_text = out.scratch.string();
  if (!sandboxed) plan.working_dir = scratch_text.c_str();

  bp::pipe in_pipe, out_pipe, err_pipe;
  bp::environment child_environment;
  child_environment.clear();
  if (!sandboxed)
    for (const auto& [key, value] : environment) child_environment[key] = value;

  std::error_code spawn_error;
  {
    bp::child child(bp::exe = exe, bp::args = args, bp::env = child_environment, bp::std_in < in_pipe,
                    bp::std_out > out_pipe, bp::std_err > err_pipe, ChildSetup(&plan), spawn_error);
    if (!spawn_error) {
      out.pid = child.id();
      child.detach();   // we reap it ourselves, with wait4, to get its resource usage
    }
  }
  if (status_pipe[1] >= 0) close(status_pipe[1]);
  if (spawn_error || out.pid <= 0) {
    if (status_pipe[0] >= 0) close(status_pipe[0]);
    out.error = "could not start " + exe + ": " + spawn_error.message();
    out.pid = -1;
    std::error_code ec;
    if (!out.scratch.empty()) std::filesystem::remove_all(out.scratch, ec);
    return out;
  }
  out.status_fd = status_pipe[0];
  out.in_fd = in_pipe.native_sink();
  out.out_fd = out_pipe.native_source();
  out.err_fd = err_pipe.native_source();
  in_pipe.assign_sink(-1);
  out_pipe.assign_source(-1);
  err_pipe.assign_source(-1);
  return out;
}

}  // namespace

SandboxedProcess Sandbox::start(const ExecutionRequest& request) const {
  if (mode_ != SandboxMode::bubblewrap) throw std::runtime_error("a long-lived sandboxed process needs bubblewrap");
  Launched launched = launch(mode_, bwrap_path_, request, /*long_lived=*/true);
  if (launched.pid <= 0) throw std::runtime_error(launched.error);
  SandboxedProcess process;
  process.pid = launched.pid;
  process.stdin_fd = launched.in_fd;
  process.stdout_fd = launched.out_fd;
  process.stderr_fd = launched.err_fd;
  if (geteuid() == 0) process.uid = kUidBase + static_cast<std::uint32_t>(launched.pid);
  return process;
}

void Sandbox::stop(SandboxedProcess& process) {
  if (process.pid > 0) {
    kill(-process.pid, SIGKILL);
    kill(process.pid, SIGKILL);
    while (waitpid(process.pid, nullptr, 0) < 0 && errno == EINTR) {}
    if (process.uid != 0) kill_all_of_uid(static_cast<uid_t>(process.uid));
  }
  for (int* fd : {&process.stdin_fd, &process.stdout_fd, &process.stderr_fd})
    if (*fd >= 0) { close(*fd); *fd = -1; }
  process.pid = -1;
}

ExecutionResult Sandbox::run(const ExecutionRequest& request) const {
  ExecutionResult result;
  const ExecutionLimits& limits = request.limits;
  const bool as_root = geteuid() == 0;
  const bool sandboxed = mode_ == SandboxMode::bubblewrap;
  auto started = Clock::now();
  Launched launched = launch(mode_, bwrap_path_, request, /*long_lived=*/false);
  if (launched.pid <= 0) {
    result.detail = launched.error;
    return result;
  }
  const pid_t pid = launched.pid;
  const std::filesystem::path& scratch = launched.scratch;
  const uid_t execution_uid = static_cast<uid_t>(kUidBase + static_cast<std::uint32_t>(pid));

  // Feed stdin, collect stdout/stderr/status, watch the deadline; until the process has exited.
  int in_fd = launched.in_fd, out_fd = launched.out_fd, err_fd = launched.err_fd;
  int status_fd = launched.status_fd;
  int exit_fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  for (int fd : {in_fd, out_fd, err_fd, status_fd}) if (fd >= 0) set_nonblocking(fd);
  std::size_t written = 0;
  if (request.stdin_data.empty()) { close(in_fd); in_fd = -1; }
  std::string status_text;
  const double wall_limit = limits.wall_seconds > 0 ? limits.wall_seconds : 2 * limits.cpu_seconds + 1;
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wall_limit));
  bool killed_for_wall = false, killed_for_output = false, exited = false;
  int wait_status = 0;
  rusage usage{};
  char buffer[65536];

  auto kill_tree = [&] {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  };
  auto drain = [&](int& fd, std::string& sink, std::size_t cap, bool& over) {
    while (fd >= 0) {
      ssize_t got = read(fd, buffer, sizeof buffer);
      if (got > 0) {
        std::size_t room = cap > sink.size() ? cap - sink.size() : 0;
        sink.append(buffer, std::min(room, static_cast<std::size_t>(got)));
        if (static_cast<std::size_t>(got) > room) over = true;
        if (over && &sink == &result.stdout_data) return;   // stop reading; the caller kills
        continue;
      }
      if (got == 0 || (errno != EAGAIN && errno != EINTR)) { close(fd); fd = -1; }
      return;
    }
  };
  bool stdout_over = false, stderr_over = false, status_over = false;
  while (!exited) {
    std::array<pollfd, 5> fds{};
    int count = 0;
    auto add = [&](int fd, short events) { if (fd >= 0) fds[count++] = {fd, events, 0}; };
    add(out_fd, POLLIN); add(err_fd, POLLIN); add(status_fd, POLLIN); add(in_fd, POLLOUT); add(exit_fd, POLLIN);
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0 && !killed_for_wall) {
      killed_for_wall = true;
      kill_tree();
    }
    int timeout = exit_fd >= 0 ? static_cast<int>(std::clamp<long long>(remaining, 0, 1000)) : 5;
    if (killed_for_wall || killed_for_output) timeout = 5;
    poll(fds.data(), static_cast<nfds_t>(count), timeout);
    drain(out_fd, result.stdout_data, limits.stdout_bytes, stdout_over);
    drain(err_fd, result.stderr_data, limits.stderr_bytes, stderr_over);
    drain(status_fd, status_text, 4096, status_over);
    if (stdout_over && !killed_for_output) {
      killed_for_output = true;
      kill_tree();
    }
    if (in_fd >= 0) {
      while (written < request.stdin_data.size()) {
        ssize_t put = write(in_fd, request.stdin_data.data() + written, request.stdin_data.size() - written);
        if (put > 0) { written += static_cast<std::size_t>(put); continue; }
        if (put < 0 && (errno == EAGAIN || errno == EINTR)) break;
        written = request.stdin_data.size();   // EPIPE: the program closed stdin; that is its business
      }
      if (written >= request.stdin_data.size()) { close(in_fd); in_fd = -1; }
    }
    pid_t reaped = wait4(pid, &wait_status, WNOHANG, &usage);
    if (reaped == pid) exited = true;
    else if (reaped < 0 && errno != EINTR) { exited = true; wait_status = 0; }
  }
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  // What is still buffered belongs to the result; whatever still holds the pipes is killed below.
  drain(out_fd, result.stdout_data, limits.stdout_bytes, stdout_over);
  drain(err_fd, result.stderr_data, limits.stderr_bytes, stderr_over);
  drain(status_fd, status_text, 4096, status_over);
  kill(-pid, SIGKILL);
  if (as_root && (!sandboxed || killed_for_wall || killed_for_output)) kill_all_of_uid(execution_uid);
  for (int fd : {in_fd, out_fd, err_fd, status_fd, exit_fd}) if (fd >= 0) close(fd);
  if (!scratch.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(scratch, ec);
  }
  result.stderr_truncated = stderr_over;
  result.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                       static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  result.peak_memory_bytes = static_cast<std::size_t>(usage.ru_maxrss) * 1024;

  // Exit status of the program: bwrap reports it as an exit code, 128 + signal for a signal.
  int code = -1, signal = 0;
  if (WIFEXITED(wait_status)) code = WEXITSTATUS(wait_status);
  else if (WIFSIGNALED(wait_status)) signal = WTERMSIG(wait_status);
  if (sandboxed) {
    if (status_text.find("\"child-pid\"") == std::string::npos && !killed_for_wall && !killed_for_output) {
      result.status = ExecutionStatus::sandbox_error;
      result.detail = "bubblewrap did not start the program";
      return result;
    }
    auto at = status_text.find("\"exit-code\":");
    if (at != std::string::npos) {
      code = std::atoi(status_text.c_str() + at + 12);
      signal = 0;
    }
    if (code > 128 && code < 128 + 65) { signal = code - 128; code = -1; }
  }
  result.exit_code = code;
  result.signal = signal;
  classify_execution(result, limits, wall_limit, killed_for_wall, killed_for_output);
  return result;
}

void classify_execution(ExecutionResult& result, const ExecutionLimits& limits, double wall_limit, bool killed_for_wall,
                        bool killed_for_output) {
  const int code = result.exit_code, signal = result.signal;
  const double cpu_limit = std::ceil(limits.cpu_seconds);
  if (killed_for_output) {
    result.status = ExecutionStatus::output_limit;
    result.detail = "stdout passed " + std::to_string(limits.stdout_bytes) + " bytes";
  } else if (killed_for_wall) {
    result.status = ExecutionStatus::time_limit;
    result.detail = "wall-clock deadline of " + seconds_text(wall_limit);
  } else if (signal == SIGXCPU || (signal == SIGKILL && result.cpu_seconds >= cpu_limit - 0.05)) {
    result.status = ExecutionStatus::time_limit;
    result.detail = "CPU limit of " + seconds_text(cpu_limit);
  } else if (code == 0) {
    result.status = ExecutionStatus::ok;
  } else if (mentions_allocation_failure(result.stderr_data) ||
             static_cast<double>(result.peak_memory_bytes) >= 0.95 * static_cast<double>(limits.memory_bytes)) {
    result.status = ExecutionStatus::memory_limit;
    result.detail = "allocation failed at the " + std::to_string(limits.memory_bytes >> 20) + " MiB address-space limit";
  } else {
    result.status = ExecutionStatus::runtime_error;
    result.detail = signal != 0 ? "killed by " + signal_name(signal) : "exit code " + std::to_string(code);
  }
}

}  // namespace r1lab::code
