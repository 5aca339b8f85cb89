#include "tasks/grading_service.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>

#include "tasks/grading/fd_io.h"
#include "tasks/grading/grading_pool.h"

namespace r1lab::tasks {

namespace {

using grading::read_all;
using grading::write_all;

constexpr std::size_t kQueueBytes = std::size_t{64} << 20;   // jobs waiting in this process
constexpr std::size_t kBatchBytes = std::size_t{32} << 20;   // jobs graded together in the grading process
constexpr std::size_t kBatchJobs = 4096;

template <typename T>
void append(std::string& frame, const T& value) {
  frame.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void append_text(std::string& frame, const std::string& text) {
  append(frame, static_cast<std::uint64_t>(text.size()));
  frame += text;
}

bool read_text(int fd, std::string& text) {
  std::uint64_t size = 0;
  if (!read_all(fd, &size, sizeof size)) return false;
  text.resize(size);
  return read_all(fd, text.data(), size);
}

bool write_job(int fd, const GradeJob& job) {
  std::string frame;
  frame.reserve(32 + job.completion.size() + job.prompt.size());
  append(frame, job.task);
  append(frame, job.problem);
  append(frame, job.sample);
  append(frame, job.tag);
  append_text(frame, job.completion);
  append_text(frame, job.prompt);
  return write_all(fd, frame.data(), frame.size());
}

bool read_job(int fd, GradeJob& job) {
  return read_all(fd, &job.task, sizeof job.task) && read_all(fd, &job.problem, sizeof job.problem) &&
         read_all(fd, &job.sample, sizeof job.sample) && read_all(fd, &job.tag, sizeof job.tag) && read_text(fd, job.completion) &&
         read_text(fd, job.prompt);
}

// A verdict travels as its fields, the kind by name (grading/verdict.h): the grading process holds it typed.
bool write_outcome(int fd, const GradeOutcome& outcome) {
  const grading::Verdict& verdict = outcome.verdict;
  std::string frame;
  append(frame, outcome.task);
  append(frame, outcome.problem);
  append(frame, outcome.sample);
  append(frame, outcome.tag);
  append(frame, outcome.milliseconds);
  append_text(frame, std::string(grading::verdict_kind_name(verdict.kind)));
  append_text(frame, verdict.extracted);
  append_text(frame, verdict.canonical);
  append_text(frame, verdict.reason);
  append_text(frame, verdict.status);
  return write_all(fd, frame.data(), frame.size());
}

// False at the end of the stream, and when a frame is garbled (a bug: both ends are this binary).
bool read_outcome(int fd, GradeOutcome& outcome, bool& garbled) {
  grading::Verdict& verdict = outcome.verdict;
  std::string kind;
  if (!(read_all(fd, &outcome.task, sizeof outcome.task) && read_all(fd, &outcome.problem, sizeof outcome.problem) &&
        read_all(fd, &outcome.sample, sizeof outcome.sample) && read_all(fd, &outcome.tag, sizeof outcome.tag) &&
        read_all(fd, &outcome.milliseconds, sizeof outcome.milliseconds) && read_text(fd, kind) &&
        read_text(fd, verdict.extracted) && read_text(fd, verdict.canonical) && read_text(fd, verdict.reason) &&
        read_text(fd, verdict.status)))
    return false;
  try {
    verdict.kind = grading::verdict_kind_from_name(kind);
  } catch (const std::invalid_argument&) {
    garbled = true;
    return false;
  }
  return true;
}

// The grading process: batches of jobs, each graded in the forked worker pool, verdicts sent back.
void grade_batches(int job_fd, int result_fd, const std::vector<GradingTaskSpec>& specs, int workers) {
  bool more = true;
  while (more) {
    std::vector<GradeJob> batch(1);
    if (!read_job(job_fd, batch[0])) break;
    std::size_t bytes = batch[0].completion.size();
    while (batch.size() < kBatchJobs && bytes < kBatchBytes) {
      pollfd ready{job_fd, POLLIN, 0};
      if (::poll(&ready, 1, 0) <= 0 || !(ready.revents & POLLIN)) break;
      GradeJob job;
      if (!read_job(job_fd, job)) {
        more = false;
        break;
      }
      bytes += job.completion.size();
      batch.push_back(std::move(job));
    }
    std::map<std::uint32_t, std::vector<std::size_t>> by_task;
    for (std::size_t i = 0; i < batch.size(); ++i) by_task[batch[i].task].push_back(i);
    for (const auto& [task_index, positions] : by_task) {
      const GradingTaskSpec& spec = specs.at(task_index);
      grading::PoolOptions pool;
      pool.workers = workers;
      pool.hard_deadline = spec.hard_deadline;
      auto graded = grading::grade_in_worker_processes(positions.size(), pool, [&](std::size_t i) {
        const GradeJob& job = batch[positions[i]];
        const auto& problem = spec.task->problems()[job.problem];
        return spec.task->grade(problem, job.sample, job.completion, job.prompt, spec.config);
      });
      for (std::size_t i = 0; i < positions.size(); ++i) {
        const GradeJob& job = batch[positions[i]];
        GradeOutcome outcome{job.task, job.problem, job.sample, std::move(graded[i].verdict), graded[i].milliseconds, job.tag};
        if (!write_outcome(result_fd, outcome)) ::_exit(1);
      }
    }
  }
}

[[noreturn]] void grading_process_main(int job_fd, int result_fd, const std::vector<GradingTaskSpec>& specs, int workers) {
  // This stack is a copy of the caller's, so no exception may leave it (the caller's code would run on
  // in this process); the caller learns of the failure from the exit status.
  try {
    grade_batches(job_fd, result_fd, specs, workers);
  } catch (const std::exception& error) {   // the pool could not pipe or fork
    std::cerr << "grading: " << error.what() << "\n";
    ::_exit(1);
  } catch (...) {
    ::_exit(1);
  }
  ::_exit(0);
}

std::string exit_failure(bool killed, int number) {
  return killed ? "the grading process was killed by signal " + std::to_string(number)
                : "the grading process exited with status " + std::to_string(number);
}

}  // namespace

GradingService::GradingService(std::vector<GradingTaskSpec> specs, int workers, std::vector<int> fds_to_close) {
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("grading: pipe failed: ") + std::strerror(errno));
  pid_t parent = ::getpid();
  child_ = ::fork();
  if (child_ < 0) throw std::runtime_error(std::string("grading: fork failed: ") + std::strerror(errno));
  if (child_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Ctrl-C reaches the whole process group: the caller decides what a stop means (finish the step,
    // save, exit) and ends this process itself, so grading must not die under it first.
    ::signal(SIGINT, SIG_IGN);
    ::signal(SIGTERM, SIG_IGN);
    if (::getppid() != parent) ::_exit(1);
    for (int fd : fds_to_close) ::close(fd);
    ::close(to_child[1]);
    ::close(from_child[0]);
    grading_process_main(to_child[0], from_child[1], specs, workers);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  job_fd_ = to_child[1];
  result_fd_ = from_child[0];
  writer_ = std::thread([this] { writer_loop(); });
  reader_ = std::thread([this] { reader_loop(); });
}

GradingService::~GradingService() {
  if (writer_.joinable() || reader_.joinable()) abort();
}

void GradingService::submit(GradeJob job) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return queued_bytes_ < kQueueBytes || closing_; });
  if (closing_) return;
  queued_bytes_ += job.completion.size() + job.prompt.size();
  ++outstanding_;
  queue_.push_back(std::move(job));
  changed_.notify_all();
}

std::vector<GradeOutcome> GradingService::take_finished() {
  std::lock_guard lock(mutex_);
  std::vector<GradeOutcome> taken;
  taken.swap(finished_);
  outstanding_ -= taken.size();
  return taken;
}

std::size_t GradingService::outstanding() const {
  std::lock_guard lock(mutex_);
  return outstanding_;
}

std::string GradingService::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void GradingService::writer_loop() {
  // A write to a dead grading process must fail with EPIPE, not kill us.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  while (true) {
    GradeJob job;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty()) break;
      job = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= job.completion.size() + job.prompt.size();
      changed_.notify_all();
    }
    if (!write_job(job_fd_, job)) {
      std::lock_guard lock(mutex_);
      // After abort() killed it, a write that fails is the kill, not a failure.
      if (!aborted_ && failure_.empty()) failure_ = "the grading process stopped taking jobs";
      break;
    }
  }
  ::close(job_fd_);
  job_fd_ = -1;
}

void GradingService::reader_loop() {
  GradeOutcome outcome;
  bool garbled = false;
  while (read_outcome(result_fd_, outcome, garbled)) {
    std::lock_guard lock(mutex_);
    finished_.push_back(std::move(outcome));
    changed_.notify_all();
  }
  ::close(result_fd_);   // a grading process still running then fails its next write and exits
  result_fd_ = -1;
  if (garbled) {
    std::lock_guard lock(mutex_);
    if (!aborted_ && failure_.empty()) failure_ = "the grading process sent a garbled verdict (a bug in r1lab)";
    changed_.notify_all();
    return;
  }
  // The grading process closed its end. With every job answered that is the normal end (finish()); with
  // jobs left and no abort(), it died (killed, out of memory), and a caller waiting on outstanding()
  // would wait forever: record why, from its exit status, leaving it to finish() or abort() to reap.
  auto died_early = [&] {
    std::lock_guard lock(mutex_);
    return !aborted_ && failure_.empty() && outstanding_ > finished_.size();
  };
  if (!died_early()) return;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(child_), &info, WEXITED | WNOWAIT) != 0) return;
  std::lock_guard lock(mutex_);
  if (aborted_ || !failure_.empty()) return;
  failure_ = exit_failure(info.si_code != CLD_EXITED, info.si_status);
  changed_.notify_all();
}

void GradingService::finish() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    changed_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
  int status = 0;
  if (child_ > 0 && ::waitpid(child_, &status, 0) == child_) {
    child_ = -1;
    std::lock_guard lock(mutex_);
    if (failure_.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      failure_ = WIFSIGNALED(status) ? exit_failure(true, WTERMSIG(status)) : exit_failure(false, WEXITSTATUS(status));
  }
}

void GradingService::abort() {
  {
    std::lock_guard lock(mutex_);
    aborted_ = true;   // before the kill, so the reader does not take it for a failure
  }
  if (child_ > 0) ::kill(child_, SIGKILL);
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    outstanding_ -= queue_.size();
    queue_.clear();
    queued_bytes_ = 0;
    changed_.notify_all();
  }
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
  if (child_ > 0) ::waitpid(child_, nullptr, 0);
  child_ = -1;
}

}  // namespace r1lab::tasks
