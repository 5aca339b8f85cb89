// tasks/codeforces.h — Codeforces problems judged on their tests, with a CodeElo-style rating.
//
// Two datasets, two task names:
//   codeforces     DeepCoder's Codeforces set (contests 1971-2036, ids like 1971A, example tests only)
//   codecontests   DeepMind CodeContests' test split (Codeforces problems with public + private tests,
//                  no ids: "cc<row>")
// Time and memory limits are parsed from each statement; interactive problems cannot be judged by
// comparing output and are left out (counted in results.json). Output is compared token by token
// (optional float tolerance), or by a testlib-style checker given with --checker.
// The rating (metrics/codeforces_rating.h) needs contest standings, which r1lab does not ship: see
// docs/codeforces-rating.md for the file format; the percentile uses CodeElo's human rating list.
#pragma once

#include "tasks/code_task.h"

namespace r1lab::tasks {

enum class CodeforcesSource { deepcoder, codecontests };

class CodeforcesTask : public CodeTask {
 public:
  explicit CodeforcesTask(CodeforcesSource source);
  const TaskInfo& info() const override { return info_; }
  void load(const DataDirectory& data) override;
  SamplePrompt prompt(const Problem& problem, std::uint64_t sample_index, const GradingConfig& config) const override;
  nlohmann::json task_results(const std::vector<std::vector<grading::Verdict>>& verdicts_by_problem,
                              const DataDirectory& data, const GradingConfig& config) const override;

  const std::vector<std::string>& interactive_excluded() const { return interactive_; }

 private:
  TaskInfo info_;
  CodeforcesSource source_;
  std::vector<std::string> interactive_;
};

// Limits as the statements write them ("Time Limit: 2000 ms", "Time Limit: {'seconds': 2, 'nanos': 0}",
// "Memory Limit: 256 MB", "Memory Limit: 512000000 Bytes"); defaults 2 s and 256 MB when absent.
double parse_time_limit_seconds(const std::string& statement);
std::size_t parse_memory_limit_mb(const std::string& statement);
bool is_interactive_statement(const std::string& statement);

}  // namespace r1lab::tasks
