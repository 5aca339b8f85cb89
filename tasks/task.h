// tasks/task.h — what a benchmark is: problems from a data file, a prompt per (problem, sample), a grader.
//
// A task adapter is one .h/.cpp pair implementing Task, registered in registry.cpp. Variants (aime24,
// aime25, ...) are rows of parameters, not copies. Every task has stable problem ids and a version that
// changes whenever its prompt or grading changes; results carry the version and the dataset's sha256.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tasks/code/code_grading.h"
#include "tasks/data_dir.h"
#include "tasks/grading/grading_options.h"
#include "tasks/grading/verdict.h"

namespace r1lab::tasks {

struct Problem {
  std::string id;                              // stable across dataset copies ("2024-I-1", "test/algebra/1.json")
  std::string statement;
  std::string reference;                       // the reference answer as written in the dataset
  std::vector<std::string> choices;            // multiple choice only: original order, choices[0] is correct
  std::map<std::string, std::string> labels;   // breakdown labels ("subject", "level", "domain")
};

enum class PromptTemplate { paper, r1_zero };
std::string_view prompt_template_name(PromptTemplate t);
PromptTemplate prompt_template_from_name(std::string_view name);  // throws std::invalid_argument

struct GradingConfig {
  grading::MathGradingOptions math;
  grading::ChoiceGradingOptions choice;
  code::CodeGradingOptions code;
  std::uint64_t choice_seed = 0;               // GPQA shuffle seed
  PromptTemplate prompt_template = PromptTemplate::paper;
};

struct SamplePrompt {
  std::string text;
  std::optional<std::array<int, 4>> permutation;  // multiple choice: permutation[shown] = original
};

struct TaskInfo {
  std::string name;
  int version = 1;
  std::string description;
  DatasetSpec dataset;
  std::vector<std::string> breakdown_labels;   // which Problem::labels to break metrics down by
  // Samples per problem that `r1lab eval` draws unless -n says otherwise: the paper's k (4 to 64 by
  // benchmark size), with open-r1's choices where the paper gives none (docs/eval.md lists them).
  int default_samples = 1;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual const TaskInfo& info() const = 0;
  // Reads the dataset; throws DataError naming the file (and line) on any problem.
  virtual void load(const DataDirectory& data) = 0;
  const std::vector<Problem>& problems() const { return problems_; }
  const std::string& dataset_sha256() const { return dataset_sha256_; }

  // True when the prompt depends on the sample index (GPQA's per-sample shuffle).
  virtual bool prompt_varies_per_sample() const { return false; }
  virtual SamplePrompt prompt(const Problem& problem, std::uint64_t sample_index, const GradingConfig& config) const = 0;
  // Grades one completion; never throws for any completion text.
  virtual grading::Verdict grade(const Problem& problem, std::uint64_t sample_index, const std::string& completion,
                                 const std::string& prompt, const GradingConfig& config) const = 0;
  // Whether two graded samples gave the same answer (cons@k classes); never throws.
  virtual bool same_answer(const Problem& problem, const grading::Verdict& a, const grading::Verdict& b,
                           const GradingConfig& config) const = 0;
  // The grading options in force, for results.json.
  virtual nlohmann::json grading_options(const GradingConfig& config) const = 0;

  // Throws with what to install or which flag to pass when grading cannot work here (code tasks: the
  // sandbox). Called once before any grading.
  virtual void check_grading_environment(const GradingConfig& config) const {}
  // The longest one grading call may take before the worker is killed (0: the harness default).
  virtual std::chrono::milliseconds grading_deadline(const GradingConfig& config) const { return std::chrono::milliseconds(0); }
  // Task-specific results beyond pass@k (Codeforces: rating and percentile; code tasks: which tests),
  // from the verdicts of every problem (indexed like problems(), samples in order). Null when none.
  virtual nlohmann::json task_results(const std::vector<std::vector<grading::Verdict>>& verdicts_by_problem,
                                      const DataDirectory& data, const GradingConfig& config) const {
    return nullptr;
  }

 protected:
  std::vector<Problem> problems_;
  std::string dataset_sha256_;
};

}  // namespace r1lab::tasks
