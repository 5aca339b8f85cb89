// tasks/code_task.h — the part every code benchmark shares: per-problem tests and limits beside the
// Problem list, and grading through tasks/code/code_grading.h. LiveCodeBench, Codeforces and HumanEval
// derive from it and only load data and write prompts.
#pragma once

#include <unordered_map>

#include "tasks/task.h"

namespace r1lab::tasks {

class CodeTask : public Task {
 public:
  grading::Verdict grade(const Problem& problem, std::uint64_t sample_index, const std::string& completion,
                         const std::string& prompt, const GradingConfig& config) const override;
  // Two samples vote together when they are the same program (cons@k is of little use for code).
  bool same_answer(const Problem& problem, const grading::Verdict& a, const grading::Verdict& b,
                   const GradingConfig& config) const override;
  nlohmann::json grading_options(const GradingConfig& config) const override;
  void check_grading_environment(const GradingConfig& config) const override;
  std::chrono::milliseconds grading_deadline(const GradingConfig& config) const override;
  nlohmann::json task_results(const std::vector<std::vector<grading::Verdict>>& verdicts_by_problem,
                              const DataDirectory& data, const GradingConfig& config) const override;

  const code::CodeProblem& code_problem(const Problem& problem) const;
  // The completion a reference solution would be (a fenced block), for tests and smoke runs.
  static std::string as_completion(const std::string& source, code::Language language);

 protected:
  void add_problem(Problem problem, code::CodeProblem code);
  void clear_problems();
  // Extra lines for task_results ("tests": "public tests only", "excluded": ...).
  nlohmann::json notes_;

 private:
  std::vector<code::CodeProblem> code_problems_;
  std::unordered_map<std::string, std::size_t> index_by_id_;
};

}  // namespace r1lab::tasks
