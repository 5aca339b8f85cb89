// tasks/gpqa_diamond.h — GPQA Diamond: 198 four-choice questions, choices shuffled per (question, sample).
//
// Prompt: the simple-evals multiple-choice template. The file lists the correct answer first, unshuffled;
// the shuffle is grading/choice_permutation.h, seeded by (seed, Record ID, sample index), so every sample
// sees its own order and the order can be recomputed anywhere.
#pragma once

#include "tasks/task.h"

namespace r1lab::tasks {

class GpqaDiamondTask : public Task {
 public:
  GpqaDiamondTask();
  const TaskInfo& info() const override { return info_; }
  void load(const DataDirectory& data) override;
  bool prompt_varies_per_sample() const override { return true; }
  SamplePrompt prompt(const Problem& problem, std::uint64_t sample_index, const GradingConfig& config) const override;
  grading::Verdict grade(const Problem& problem, std::uint64_t sample_index, const std::string& completion,
                         const std::string& prompt, const GradingConfig& config) const override;
  bool same_answer(const Problem& problem, const grading::Verdict& a, const grading::Verdict& b,
                   const GradingConfig& config) const override;
  nlohmann::json grading_options(const GradingConfig& config) const override;

 private:
  TaskInfo info_;
};

}  // namespace r1lab::tasks
