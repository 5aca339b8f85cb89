// harness/sample_store.h — the run directory's SQLite database (samples.sqlite): the run's configuration,
// every request sent, every finished sample and its verdict.
//
// A sample is committed in the same transaction as the request that produced it, the moment it arrives,
// so a killed run loses at most the requests still in flight, and (task, problem, sample) is the primary
// key, so nothing is ever stored twice. WAL with synchronous=NORMAL: a commit survives the process being
// killed (what this guards against); only a power cut can lose the last few. Verdicts are derived data
// (regraded when missing or graded under other options) and are written in batches.
// Safe to call from several threads: one connection behind a mutex.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace r1lab::harness {

struct RequestRecord {
  std::string task;
  std::string problem_id;
  std::uint64_t first_sample = 0;
  int n = 1;                          // samples asked for
  std::optional<std::int64_t> seed;
  std::string prompt;                 // the prompt text (chat: the user message)
  long http_status = 0;
  int attempts = 1;
  double latency_ms = 0;
  std::int64_t prompt_tokens = -1;
  std::int64_t completion_tokens = -1;
  std::string error;                  // failed for good: no samples
};

struct FinishedSample {
  std::uint64_t sample = 0;
  std::string completion;
  std::string finish_reason;
  std::int64_t tokens = -1;           // this sample's own token count, when the backend knows it
};

struct VerdictUpdate {
  std::string task;
  std::string problem_id;
  std::uint64_t sample = 0;
  std::string verdict_json;
  std::string grading_key;
  double grading_ms = 0;
};

struct StoredSample {
  std::string problem_id;
  std::uint64_t sample = 0;
  std::string completion;             // empty unless asked for
  std::string prompt;                 // empty unless asked for
  std::string finish_reason;
  std::int64_t completion_tokens = -1;
  std::int64_t completion_characters = 0;   // Unicode characters of the completion (read even without the text)
  std::optional<std::string> verdict_json;
  std::string grading_key;
  double grading_ms = 0;
};

struct StoreTotals {
  std::int64_t requests = 0;
  std::int64_t failed_requests = 0;
  std::int64_t retries = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t samples = 0;
  std::int64_t truncated = 0;         // finish_reason "length": stopped by max_tokens
  double mean_latency_ms = 0;
};

class SampleStore {
 public:
  // Opens or creates the database; throws std::runtime_error naming the file.
  explicit SampleStore(const std::filesystem::path& path);
  ~SampleStore();
  SampleStore(const SampleStore&) = delete;
  SampleStore& operator=(const SampleStore&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::optional<nlohmann::json> config();
  void set_config(const nlohmann::json& config);

  // Commits the request and its samples in one transaction before returning.
  void record(const RequestRecord& request, const std::vector<FinishedSample>& samples);
  void set_verdicts(const std::vector<VerdictUpdate>& updates);

  // Stored sample indices of a task, by problem id.
  std::map<std::string, std::vector<std::uint64_t>> stored_samples(const std::string& task);
  // Every stored sample of a task in (problem id, sample) order; with_text adds completion and prompt.
  void for_each_sample(const std::string& task, bool with_text, const std::function<void(StoredSample&&)>& visit);
  StoreTotals totals(const std::string& task);
  std::vector<std::string> tasks();

 private:
  void exec(const char* sql);
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  // Prepared once: record() runs for every request of a run.
  sqlite3_stmt* insert_request_ = nullptr;
  sqlite3_stmt* insert_sample_ = nullptr;
  std::mutex mutex_;
};

}  // namespace r1lab::harness
