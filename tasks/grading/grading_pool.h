// tasks/grading/grading_pool.h — run grading jobs in forked worker processes, each under a hard deadline.
//
// Graders bound themselves cooperatively (tasks/grading/budget.h); this is the backstop that makes a
// grading call that still hangs or runs away with memory harmless: the worker is killed, the job is
// reported as failed (a `timeout` verdict to the caller), a fresh worker is forked, and the run goes on.
// Workers are forked from the caller, so `work` sees all of its data without copying; each worker also
// gets an address-space limit. Results come back in job order, as byte strings (run_in_worker_processes)
// or as verdicts (grade_in_worker_processes). Call them from a single-threaded process (forking beside
// other threads is unsafe); tasks/grading_service.h is that process for callers that have threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "tasks/grading/verdict.h"

namespace r1lab::grading {

struct PoolOptions {
  int workers = 0;                                   // 0: every core
  std::chrono::milliseconds hard_deadline{10000};    // per job
  std::size_t memory_limit_bytes = std::size_t{4} << 30;
};

struct JobResult {
  bool ok = false;
  std::string payload;   // what `work` returned
  std::string failure;   // why not ok: "killed after 10000 ms", "worker died (signal 9)"
  double milliseconds = 0;
};

// Runs work(i) for i in [0, job_count) in worker processes. A job whose `work` throws fails like a crash.
std::vector<JobResult> run_in_worker_processes(std::size_t job_count, const PoolOptions& options,
                                               const std::function<std::string(std::size_t)>& work);

struct PooledVerdict {
  Verdict verdict;
  double milliseconds = 0;   // the grading call's wall time; the hard deadline when the worker was killed
};

// Runs grade(i) for i in [0, job_count) in worker processes. A job whose worker was killed or died (or
// whose `grade` threw) gets a `timeout` verdict whose reason says why.
std::vector<PooledVerdict> grade_in_worker_processes(std::size_t job_count, const PoolOptions& options,
                                                     const std::function<Verdict(std::size_t)>& grade);

int default_worker_count();

}  // namespace r1lab::grading
