// tasks/math_competition.h — free-answer math benchmarks: MATH-500, AIME 2024/2025, AMC 2023, and the
// math training sets as tasks (GSM8K train and test, DeepScaleR's MATH train) for SFT and GRPO prompts.
//
// One adapter; each benchmark is a row of MathCompetitionSpec (file, id scheme, answer field, whether
// answers are integers). Grading is tasks/grading/math_grader.h.
#pragma once

#include "tasks/task.h"

namespace r1lab::tasks {

enum class ProblemIdScheme {
  unique_id,          // MATH-500: the dataset's unique_id ("test/precalculus/807.json")
  aops_url,           // AIME 2024 / AMC 2023: from the AoPS url ("2024-I-1", "2023-12A-1")
  aime_row_halves,    // AIME 2025: rows 0-14 are contest I, 15-29 contest II ("2025-I-1")
  row_number,         // training sets without ids: "<task>-<row>" from 0 ("gsm8k_train-17")
};

enum class ReferenceFormat {
  as_is,              // the answer field is the answer
  after_hashes,       // GSM8K: a worked solution ending "#### 72"; the answer is what follows "####"
};

struct MathCompetitionSpec {
  TaskInfo info;
  ProblemIdScheme id_scheme;
  std::string question_field;
  std::string answer_field;
  int year = 0;                 // aime_row_halves only
  bool integer_answers = false; // AIME: integers compared as integers
  ReferenceFormat reference_format = ReferenceFormat::as_is;
  bool json_array = false;      // one JSON array of records (DeepScaleR's MATH train) instead of JSONL
  bool skip_unanswered = false; // a training set: records without an answer are left out (ids keep their row)
};

class MathCompetitionTask : public Task {
 public:
  explicit MathCompetitionTask(MathCompetitionSpec spec) : spec_(std::move(spec)) {}
  const TaskInfo& info() const override { return spec_.info; }
  void load(const DataDirectory& data) override;
  SamplePrompt prompt(const Problem& problem, std::uint64_t sample_index, const GradingConfig& config) const override;
  grading::Verdict grade(const Problem& problem, std::uint64_t sample_index, const std::string& completion,
                         const std::string& prompt, const GradingConfig& config) const override;
  bool same_answer(const Problem& problem, const grading::Verdict& a, const grading::Verdict& b,
                   const GradingConfig& config) const override;
  nlohmann::json grading_options(const GradingConfig& config) const override;

 private:
  grading::MathGradingOptions options_for(const GradingConfig& config) const;
  MathCompetitionSpec spec_;
};

}  // namespace r1lab::tasks
