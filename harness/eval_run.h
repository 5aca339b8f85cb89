// harness/eval_run.h — `r1lab eval`: generate with a backend, store every sample the moment it arrives,
// grade as samples arrive, then write results.json and verdicts.jsonl per task.
//
// The run directory holds samples.sqlite (sample_store.h) and one folder per task with its results.
// Running the same command again resumes: only missing samples are requested, missing or stale verdicts
// are recomputed, and nothing stored is asked for twice. A different model, API, sampling parameters,
// seed or task version is refused (run_config.h) unless restart moves the old store aside.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backend.h"
#include "tasks/task.h"

namespace r1lab::harness {

enum class ProgressMode { automatic, live, log, none };

struct EvalOptions {
  std::vector<std::string> tasks;
  std::string data_dir;
  std::filesystem::path out_dir;
  std::string model;                    // the served name (part of the run's identity)
  std::string api;                      // "chat" or "completions" (part of the run's identity)
  nlohmann::json engine;                // the built-in engine's numerics (device, dtype, template): part of
                                        // the run's identity when set; null for servers
  std::string label;                    // row name in reports (default: model)
  std::optional<int> n;                 // samples per problem (default: each task's)
  SamplingParams sampling;
  std::uint64_t sampling_seed = 0;
  bool send_seed = true;                // a per-request seed derived from sampling_seed
  int samples_per_request = 0;          // 0: all missing samples of a problem in one request (n)
  std::size_t limit = 0;                // first N problems of each task (0: all)
  std::vector<int> pass_k, cons_k;
  // Counts a completion's tokens when the backend gave no count for it (a server answering n > 1 samples
  // in one request reports usage for the request only); null: such lengths are counted in characters.
  std::function<std::int64_t(const std::string&)> count_tokens;
  std::string token_counter_name;       // what count_tokens is, for results.json (e.g. the tokenizer folder)      // pass@k and cons@k metrics besides pass@1 and cons@n (each k <= n)
  bool restart = false;
  bool allow_partial = false;           // write results even if some requests failed for good
  tasks::GradingConfig grading;
  int workers = 0;                      // grading worker processes
  std::chrono::milliseconds hard_deadline{10000};
  ProgressMode progress = ProgressMode::automatic;
  std::string resume_command;           // shown when the run stops early
};

struct EvalOutcome {
  int exit_code = 0;                    // 0 done; 1 samples missing (failed requests); 130 interrupted
  std::vector<nlohmann::json> results;  // one per task when done
  std::string message;                  // what happened when not done
};

// Throws tasks::DataError / std::runtime_error / BackendError with a message for the user. Everything
// finished before an error stays in the store.
EvalOutcome run_eval(const EvalOptions& options, GenerationBackend& backend);

// The request seed of (task, problem, first sample) under a run's sampling seed: stable across runs and
// machines, 31 bits (every server accepts it).
std::int64_t request_seed(std::uint64_t sampling_seed, const std::string& task, const std::string& problem_id,
                          std::uint64_t first_sample);

}  // namespace r1lab::harness
