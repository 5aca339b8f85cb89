// harness/progress.h — what a long run shows while it works. On a terminal, one live line redrawn in
// place; otherwise (CI logs, files) one plain line every few seconds. Counters are atomics, bumped from
// any thread; print() is called from one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace r1lab::harness {

struct ProgressCounters {
  std::atomic<std::int64_t> samples_done{0};        // stored in this run
  std::atomic<std::int64_t> completion_tokens{0};
  std::atomic<std::int64_t> retries{0};
  std::atomic<std::int64_t> failed_requests{0};
  std::atomic<std::int64_t> graded{0};
  std::atomic<std::int64_t> correct{0};
};

class ProgressMeter {
 public:
  // total: samples this run must generate; already_done: stored by earlier runs (shown, not in rates).
  // out: nullptr prints nothing.
  ProgressMeter(std::int64_t total, std::int64_t already_done, std::FILE* out, bool live,
                std::chrono::seconds log_every = std::chrono::seconds(10));
  ProgressCounters counters;
  // Prints when due (live: every 0.5 s; log: every log_every), or now when forced.
  void print(bool force = false);
  // Ends a live line so that what follows starts on a fresh one.
  void finish();
  std::string line() const;

 private:
  std::int64_t total_, already_done_;
  std::FILE* out_;
  bool live_;
  std::chrono::seconds log_every_;
  std::chrono::steady_clock::time_point started_, last_print_;
  bool printed_live_ = false;
};

// True when stream is a terminal (and TERM is not "dumb").
bool is_terminal(std::FILE* stream);

}  // namespace r1lab::harness
