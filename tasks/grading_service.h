// tasks/grading_service.h — grading while generation runs, in a process of its own.
//
// `r1lab eval` receives samples on a network thread, and GRPO rollouts come from a sampling loop; both
// must grade them as they arrive, with Task::grade, in forked workers with hard deadlines
// (grading/grading_pool.h), so that evaluation and rewards can never disagree. Forking from a process
// that runs threads is unsafe (a lock held by another thread stays held in the child forever), so the
// service forks one grading process up front, before any thread starts and before any model is loaded
// (a forked child must not inherit a CUDA context or hold on to the weights); that process is
// single-threaded, takes jobs from a pipe in batches and grades each batch with the worker pool. Jobs and
// verdicts cross pipes as length-prefixed frames; two threads in the caller feed and drain them, so
// submit() only queues.
// The grading process dies with its parent (PR_SET_PDEATHSIG): a killed run leaves nothing behind.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tasks/grading/verdict.h"
#include "tasks/task.h"

namespace r1lab::tasks {

struct GradingTaskSpec {
  const Task* task = nullptr;                        // loaded; must outlive the service
  GradingConfig config;
  std::chrono::milliseconds hard_deadline{10000};    // per grading call, then the worker is killed
};

struct GradeJob {
  std::uint32_t task = 0;       // index into the specs
  std::uint32_t problem = 0;    // index into task->problems()
  std::uint64_t sample = 0;
  std::string completion;
  std::string prompt;
  std::uint64_t tag = 0;        // the caller's, returned in the outcome (GRPO: which rollout)
};

struct GradeOutcome {
  std::uint32_t task = 0;
  std::uint32_t problem = 0;
  std::uint64_t sample = 0;
  grading::Verdict verdict;     // a timeout verdict when the worker was killed or died
  double milliseconds = 0;
  std::uint64_t tag = 0;        // the job's
};

class GradingService {
 public:
  // Forks the grading process now: call it before starting any thread or loading any model. workers: the
  // pool's worker processes (0: every core). fds_to_close are closed in it (the run directory's lock,
  // which must die with this process).
  GradingService(std::vector<GradingTaskSpec> specs, int workers, std::vector<int> fds_to_close);
  ~GradingService();
  GradingService(const GradingService&) = delete;
  GradingService& operator=(const GradingService&) = delete;

  // Queues a job; waits while more than the queue's byte bound is waiting (back-pressure, flat memory).
  void submit(GradeJob job);
  // Verdicts that came back since the last call.
  std::vector<GradeOutcome> take_finished();
  // Jobs submitted and not yet returned by take_finished().
  std::size_t outstanding() const;
  // Sends no more jobs and waits until every submitted one is graded (then take_finished() them).
  void finish();
  // Kills the grading process now; jobs not yet graded are dropped.
  void abort();
  // Why the grading process stopped early ("" while it is fine): it stopped taking jobs, or died with jobs
  // outstanding (which then never come back; abort() and rerun).
  std::string failure() const;

 private:
  void writer_loop();
  void reader_loop();

  pid_t child_ = -1;
  int job_fd_ = -1;
  int result_fd_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<GradeJob> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t outstanding_ = 0;
  bool closing_ = false;
  bool aborted_ = false;
  std::vector<GradeOutcome> finished_;
  std::string failure_;
  std::thread writer_;
  std::thread reader_;
};

}  // namespace r1lab::tasks
