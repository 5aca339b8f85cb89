// tasks/humaneval.h — HumanEval: 164 Python functions checked by their unit tests. A small, well-known
// end-to-end check of the code path (extraction, sandbox, exit status).
//
// The program is the answer's last code block when it defines the entry point (with the prompt's import
// lines before it), else the prompt followed by the block (a body completion, as the original harness
// executes prompt + completion); then the problem's tests and check(entry_point). 3 s per problem, as the
// original harness.
#pragma once

#include "tasks/code_task.h"

namespace r1lab::tasks {

class HumanEvalTask : public CodeTask {
 public:
  HumanEvalTask();
  const TaskInfo& info() const override { return info_; }
  void load(const DataDirectory& data) override;
  SamplePrompt prompt(const Problem& problem, std::uint64_t sample_index, const GradingConfig& config) const override;
  grading::Verdict grade(const Problem& problem, std::uint64_t sample_index, const std::string& completion,
                         const std::string& prompt, const GradingConfig& config) const override;

  // The canonical solution of a problem as a completion (for tests).
  std::string canonical_completion(const Problem& problem) const;

 private:
  TaskInfo info_;
  std::unordered_map<std::string, std::pair<std::string, std::string>> prompt_and_canonical_;
};

}  // namespace r1lab::tasks
