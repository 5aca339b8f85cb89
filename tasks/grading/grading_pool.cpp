#include "tasks/grading/grading_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "tasks/grading/fd_io.h"
#include "tasks/grading/verdict_json.h"

namespace r1lab::grading {

namespace {

using Clock = std::chrono::steady_clock;

struct Worker {
  pid_t pid = -1;
  int job_fd = -1;      // parent writes job indices
  int result_fd = -1;   // parent reads results
  bool busy = false;
  std::size_t job = 0;
  Clock::time_point started;
};

[[noreturn]] void worker_main(pid_t parent, int job_fd, int result_fd, const PoolOptions& options,
                              const std::function<std::string(std::size_t)>& work) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);   // a killed run leaves no grading worker behind
  // A parent killed between fork() and prctl() sends no signal: without this check the worker would live
  // on, holding every pipe it inherited open, so whoever waits for the parent's pipes to close waits forever.
  if (::getppid() != parent) ::_exit(1);
  struct rlimit limit {options.memory_limit_bytes, options.memory_limit_bytes};
  ::setrlimit(RLIMIT_AS, &limit);
  std::uint64_t job;
  while (read_all(job_fd, &job, sizeof job)) {
    std::string payload;
    try {
      payload = work(static_cast<std::size_t>(job));
    } catch (...) {
      // This stack is a copy of the caller's: unwinding it would run the caller's code and destructors a
      // second time. The job fails as if the worker had crashed (out of memory ends here: bad_alloc).
      ::_exit(1);
    }
    std::uint64_t size = payload.size();
    if (!write_all(result_fd, &job, sizeof job) || !write_all(result_fd, &size, sizeof size) ||
        !write_all(result_fd, payload.data(), payload.size()))
      break;
  }
  ::_exit(0);
}

Worker spawn(const PoolOptions& options, const std::function<std::string(std::size_t)>& work,
             const std::vector<Worker>& others) {
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("grading pool: pipe failed: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("grading pool: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    for (const auto& other : others) {  // siblings' pipes are not ours
      if (other.job_fd >= 0) ::close(other.job_fd);
      if (other.result_fd >= 0) ::close(other.result_fd);
    }
    worker_main(parent, to_child[0], from_child[1], options, work);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  Worker worker;
  worker.pid = pid;
  worker.job_fd = to_child[1];
  worker.result_fd = from_child[0];
  return worker;
}

void stop(Worker& worker, bool kill_it) {
  if (worker.job_fd >= 0) ::close(worker.job_fd);
  if (kill_it) ::kill(worker.pid, SIGKILL);
  int status = 0;
  ::waitpid(worker.pid, &status, 0);
  if (worker.result_fd >= 0) ::close(worker.result_fd);
  worker = Worker{};
}

}  // namespace

int default_worker_count() {
  unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

std::vector<JobResult> run_in_worker_processes(std::size_t job_count, const PoolOptions& options,
                                               const std::function<std::string(std::size_t)>& work) {
  std::vector<JobResult> results(job_count);
  if (job_count == 0) return results;
  int worker_count = options.workers > 0 ? options.workers : default_worker_count();
  worker_count = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(worker_count), job_count));
  // A worker that dies must not kill us with SIGPIPE.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ::sigaction(SIGPIPE, &ignore, &previous);

  std::vector<Worker> workers;
  for (int i = 0; i < worker_count; ++i) workers.push_back(spawn(options, work, workers));
  std::size_t next_job = 0, done = 0;

  auto dispatch = [&](Worker& worker) {
    if (next_job >= job_count) return;
    std::uint64_t job = next_job++;
    worker.busy = true;
    worker.job = job;
    worker.started = Clock::now();
    if (!write_all(worker.job_fd, &job, sizeof job)) {
      results[job] = {false, "", "worker could not take the job", 0};
      worker.busy = false;
      ++done;
    }
  };
  auto replace = [&](std::size_t w, bool kill_it) {
    stop(workers[w], kill_it);
    workers[w] = spawn(options, work, workers);
  };
  for (auto& worker : workers) dispatch(worker);

  while (done < job_count) {
    std::vector<pollfd> fds;
    auto now = Clock::now();
    auto wait = options.hard_deadline;
    for (auto& worker : workers) {
      fds.push_back({worker.result_fd, POLLIN, 0});
      if (worker.busy) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(worker.started + options.hard_deadline - now);
        wait = std::min(wait, std::max(left, std::chrono::milliseconds(0)));
      }
    }
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(wait.count()) + 1);
    if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("grading pool: poll failed: ") + std::strerror(errno));
    now = Clock::now();
    for (std::size_t w = 0; w < workers.size(); ++w) {
      Worker& worker = workers[w];
      if (fds[w].revents & (POLLIN | POLLHUP | POLLERR)) {
        std::uint64_t job = 0, size = 0;
        std::string payload;
        bool got = read_all(worker.result_fd, &job, sizeof job) && read_all(worker.result_fd, &size, sizeof size);
        if (got) {
          payload.resize(size);
          got = read_all(worker.result_fd, payload.data(), size);
        }
        if (got && worker.busy && job == worker.job) {
          double ms = std::chrono::duration<double, std::milli>(now - worker.started).count();
          results[job] = {true, std::move(payload), "", ms};
          worker.busy = false;
          ++done;
          dispatch(worker);
          continue;
        }
        // The worker died (out of memory, a crash): its job fails, a new worker takes over.
        if (worker.busy) {
          results[worker.job] = {false, "", "grading worker died (memory limit or crash)", 0};
          ++done;
        }
        replace(w, true);
        dispatch(workers[w]);
        continue;
      }
      if (worker.busy && now - worker.started > options.hard_deadline) {
        results[worker.job] = {false, "", "killed after the hard deadline of " +
                                              std::to_string(options.hard_deadline.count()) + " ms", 
                               static_cast<double>(options.hard_deadline.count())};
        ++done;
        replace(w, true);
        dispatch(workers[w]);
      }
    }
  }
  for (auto& worker : workers) stop(worker, false);
  ::sigaction(SIGPIPE, &previous, nullptr);
  return results;
}

std::vector<PooledVerdict> grade_in_worker_processes(std::size_t job_count, const PoolOptions& options,
                                                     const std::function<Verdict(std::size_t)>& grade) {
  // A verdict crosses back as its JSON text, the form it is stored in. dump() throws on invalid UTF-8,
  // which fails the job (a timeout verdict): a verdict that could not be stored never leaves the worker.
  auto results = run_in_worker_processes(job_count, options, [&](std::size_t i) { return verdict_to_json(grade(i)).dump(); });
  std::vector<PooledVerdict> verdicts;
  verdicts.reserve(results.size());
  for (auto& result : results) {
    Verdict verdict = result.ok ? verdict_from_json(nlohmann::json::parse(result.payload))
                                : verdict_before_comparison(VerdictKind::timeout, std::move(result.failure));
    verdicts.push_back({std::move(verdict), result.milliseconds});
  }
  return verdicts;
}

}  // namespace r1lab::grading
