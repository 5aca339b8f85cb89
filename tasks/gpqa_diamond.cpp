#include "tasks/gpqa_diamond.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tasks/csv_reader.h"
#include "tasks/grading/choice_grader.h"
#include "tasks/grading/choice_permutation.h"
#include "tasks/prompts.h"
#include "tasks/text_trim.h"

namespace r1lab::tasks {

GpqaDiamondTask::GpqaDiamondTask() {
  info_.name = "gpqa_diamond";
  info_.version = 1;
  info_.description = "GPQA Diamond, 198 graduate-level 4-choice questions (simple-evals prompt, seeded shuffle)";
  info_.dataset = {"gpqa_diamond", "gpqa/gpqa_diamond.csv",
                   "41d1213cd7a4998605a26c2798500652572007161b3a92817ba46b35befcd305", "198 rows, 78 columns",
                   "gpqa_diamond.csv from openai/simple-evals (or the idavidrein/gpqa dataset zip)"};
  info_.breakdown_labels = {"domain"};
  info_.default_samples = 8;
}

void GpqaDiamondTask::load(const DataDirectory& data) {
  auto path = data.require(info_.dataset);
  dataset_sha256_ = sha256_file(path);
  problems_.clear();
  for (const auto& row : read_csv(path)) {
    auto cell = [&](const std::string& name) {
      auto it = row.cells.find(name);
      if (it == row.cells.end())
        throw DataError(path.string() + ":" + std::to_string(row.line) + ": no column '" + name + "'");
      return trim(it->second);
    };
    Problem problem;
    problem.id = cell("Record ID");
    problem.statement = cell("Question");
    problem.choices = {cell("Correct Answer"), cell("Incorrect Answer 1"), cell("Incorrect Answer 2"),
                       cell("Incorrect Answer 3")};
    problem.reference = "A";  // placeholder: the correct letter depends on the sample's permutation
    problem.labels["domain"] = cell("High-level domain");
    problems_.push_back(std::move(problem));
  }
}

SamplePrompt GpqaDiamondTask::prompt(const Problem& problem, std::uint64_t sample_index,
                                     const GradingConfig& config) const {
  auto permutation = grading::choice_permutation(config.choice_seed, problem.id, sample_index);
  // simple-evals QUERY_TEMPLATE_MULTICHOICE.
  std::string text =
      "Answer the following multiple choice question. The last line of your response should be of the following "
      "format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before "
      "answering.\n\n" + problem.statement + "\n\n";
  for (int shown = 0; shown < 4; ++shown)
    text += std::string(1, static_cast<char>('A' + shown)) + ") " + problem.choices[permutation[shown]] + (shown < 3 ? "\n" : "");
  return {apply_template(config.prompt_template, text), permutation};
}

grading::Verdict GpqaDiamondTask::grade(const Problem& problem, std::uint64_t sample_index, const std::string& completion,
                                        const std::string& prompt, const GradingConfig& config) const {
  auto permutation = grading::choice_permutation(config.choice_seed, problem.id, sample_index);
  // The question, then the options one per line in the order shown (extract_choice reads both).
  std::string question = problem.statement;
  for (int shown = 0; shown < 4; ++shown) {
    std::string text = problem.choices[permutation[shown]];
    std::replace(text.begin(), text.end(), '\n', ' ');
    question += "\n" + text;
  }
  return grading::grade_choice(completion, permutation, 0, config.choice, prompt, question);
}

bool GpqaDiamondTask::same_answer(const Problem&, const grading::Verdict& a, const grading::Verdict& b,
                                  const GradingConfig&) const {
  // canonical is the original choice index, so answers under different shuffles compare correctly.
  return !a.canonical.empty() && a.canonical == b.canonical;
}

nlohmann::json GpqaDiamondTask::grading_options(const GradingConfig& config) const {
  auto json = grading::to_json(config.choice);
  json["shuffle"] = "splitmix64-fisher-yates(fnv1a64(Record ID) ^ seed ^ sample*golden)";
  json["shuffle_seed"] = config.choice_seed;
  json["prompt_template"] = prompt_template_name(config.prompt_template);
  return json;
}

}  // namespace r1lab::tasks
