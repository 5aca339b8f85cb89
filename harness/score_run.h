// harness/score_run.h — `r1lab score`: grade a file of generations, compute the paper's metrics, write
// results.json and verdicts.jsonl (atomically), and return the summary.
//
// Every problem must have the same number of samples n (else an error, unless allow_partial, which is
// then recorded). Metrics: pass@1 (mean over problems of c/n), pass@k for each requested k <= n
// (unbiased, product form), cons@n (majority vote over equivalence classes of extracted answers) when
// n > 1, each with its standard error over problems; pass@1 broken down by the task's labels.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/samples_reader.h"
#include "tasks/task.h"

namespace r1lab::harness {

struct ScoreOptions {
  std::string task;
  std::filesystem::path samples;
  std::filesystem::path out_dir;
  std::string format = "auto";
  SampleFields fields;
  std::string data_dir;
  std::string model;                      // row name in reports; default: the samples file's folder name
  tasks::GradingConfig grading;
  bool think_policy_given = false;        // else: `none` for SkyThought files, `required` otherwise
  std::vector<int> pass_k, cons_k;        // pass@k and cons@k metrics besides pass@1 and cons@n (k <= n)
  bool allow_partial = false;
  int workers = 0;
  std::chrono::milliseconds hard_deadline{10000};
};

// Throws tasks::DataError / std::runtime_error with a message for the user; writes nothing then.
nlohmann::json run_score(const ScoreOptions& options);

}  // namespace r1lab::harness
