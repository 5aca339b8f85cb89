// trainer/train_log.h — what a training run reports: OUT/metrics.jsonl (one JSON line per step, flushed
// as written), and a progress line: live on a terminal (step/total, loss, tokens/s, ETA), a log line every
// few seconds otherwise. On resume the log is cut back to the checkpoint's step, so that it tells the
// history of the weights that exist.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

namespace r1lab::trainer {

class TrainLog {
 public:
  // `progress`: auto, bar, log or none. Keeps the lines of an existing metrics.jsonl up to `resume_step`.
  TrainLog(const std::filesystem::path& metrics_file, std::int64_t resume_step, std::int64_t total_steps,
           const std::string& progress, double log_every_s);
  // Writes the step's line (it must carry "step", "loss" and "tokens_per_s"), and the progress.
  void step(const nlohmann::json& metrics);
  void message(const std::string& text);   // a line of its own (clears the live line first)
  void finish();

 private:
  std::ofstream metrics_;
  std::int64_t total_steps_;
  bool live_ = false, quiet_ = false;
  double log_every_s_;
  std::chrono::steady_clock::time_point started_, last_log_;
  std::int64_t first_step_ = -1;
  bool line_open_ = false;
};

// Peak resident memory of this process in MiB (the CPU's high-water mark).
double peak_rss_mib();

}  // namespace r1lab::trainer
