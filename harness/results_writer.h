// harness/results_writer.h — from graded samples to results.json and verdicts.jsonl, shared by `score`
// (a file of generations) and `eval` (the sample store).
//
// Every problem must have the same number of samples n (else an error, unless allow_partial, which is
// then recorded). Metrics: pass@1 (mean over problems of c/n), pass@k for each requested k <= n
// (unbiased, product form), cons@n (majority vote over equivalence classes of extracted answers) and
// cons@k for each requested k < n (the vote's expected accuracy over k-subsets, metrics/consensus.h) when
// n > 1, each with its standard error over problems; "curves": pass@k and cons@k at k = 1, 2, 4, ..., n; pass@1 broken down by the task's labels; response
// lengths (mean, median, p90, max; for correct and other answers apart), truncation and no-answer rates.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/task.h"

namespace r1lab::harness {

struct GradedSample {
  std::size_t problem_index = 0;
  std::uint64_t sample_index = 0;
  grading::Verdict verdict;
  double grading_ms = 0;
  std::int64_t length = -1;                 // of the completion, in ResultsRequest::length_unit; -1 unknown
  std::optional<bool> truncated;            // cut at the token limit (finish_reason "length"); unknown when absent
  std::string finish_reason;                // as the backend said ("stop", "length"); empty when unknown
  std::int64_t tokens = -1;                 // completion tokens when known (verdicts.jsonl)
};

// Whether a sample shows a think tag (the hint for models that do not think, results.json "hints").
bool shows_think_tag(std::string_view completion, std::string_view prompt);

struct ResultsRequest {
  const tasks::Task* task = nullptr;
  const tasks::DataDirectory* data = nullptr;
  tasks::GradingConfig config;
  std::vector<GradedSample> samples;
  std::size_t problem_limit = 0;           // score only the first N problems (eval --limit); 0: all
  std::string model;
  std::vector<int> pass_k;                 // pass@k metrics besides pass@1 (each k <= n)
  std::vector<int> cons_k;                 // cons@k metrics besides cons@n (each k <= n)
  bool allow_partial = false;
  std::string samples_origin;              // named in errors: the samples file, or the run's store
  std::string partial_fix;                 // what the error about missing samples tells the user to do
  nlohmann::json source;                   // merged into results.json: {"samples_file": ...} or {"generation": ...}
  double grading_seconds = 0;
  std::chrono::steady_clock::time_point started;
  int workers = 0;
  std::chrono::milliseconds hard_deadline{10000};
  // Whether any sample's completion or prompt shows a think tag. Asked only when most samples are
  // unfinished (the hint for models that do not think), so a run's texts are read only then.
  std::function<bool()> any_think_tag;
  // What GradedSample::length counts: "tokens" (the backend's or the samples file's counts) or
  // "characters" (when some sample has no token count). results.json says which.
  std::string length_unit = "tokens";
  std::string lengths_counted_by;          // who counted tokens ("the backend, else the tokenizer at DIR"); empty: unsaid
};

// Writes out_dir/verdicts.jsonl then out_dir/results.json (each whole or not at all) and returns the
// results. Throws tasks::DataError (nothing written) when samples are missing and partial is not allowed.
nlohmann::json write_results(ResultsRequest request, const std::filesystem::path& out_dir);

}  // namespace r1lab::harness
