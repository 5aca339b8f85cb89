// tasks/countdown.h — the Countdown number game (TinyZero's RL task): given 3-4 numbers and a target, an
// expression that uses each number once and reaches it. `countdown` is the 2,001-problem test split (a
// held-out evaluation), `countdown_train` the 8,001 training problems. The question is the user turn of
// the dataset's own prompt (it asks for the answer in <answer> tags); grading is
// tasks/grading/countdown_grader.h.
#pragma once

#include "tasks/task.h"

namespace r1lab::tasks {

class CountdownTask : public Task {
 public:
  explicit CountdownTask(bool train_split);
  const TaskInfo& info() const override { return info_; }
  void load(const DataDirectory& data) override;
  SamplePrompt prompt(const Problem& problem, std::uint64_t sample_index, const GradingConfig& config) const override;
  grading::Verdict grade(const Problem& problem, std::uint64_t sample_index, const std::string& completion,
                         const std::string& prompt, const GradingConfig& config) const override;
  bool same_answer(const Problem& problem, const grading::Verdict& a, const grading::Verdict& b,
                   const GradingConfig& config) const override;
  nlohmann::json grading_options(const GradingConfig& config) const override;

 private:
  TaskInfo info_;
  std::vector<std::vector<std::int64_t>> numbers_;   // per problem, in problems() order
};

}  // namespace r1lab::tasks
