#include "tasks/countdown.h"

#include <nlohmann/json.hpp>

#include "tasks/grading/countdown_grader.h"
#include "tasks/grading/reasoning_split.h"
#include "tasks/prompts.h"

namespace r1lab::tasks {

CountdownTask::CountdownTask(bool train_split) {
  if (train_split) {
    info_ = {"countdown_train", 1, "Countdown (TinyZero): 8,001 training problems, 3-4 numbers and a target",
             {"countdown_train", "train/countdown/train.jsonl", "79911e499a787b805c2b27b3ef97fe31cc9047f95723e890214540649c177570",
              "8001 problems", "data/countdown/train.parquet in Jiayi-Pan/TinyZero (PR #93), as JSONL"},
             {}, 1};
  } else {
    info_ = {"countdown", 1, "Countdown (TinyZero): 2,001 held-out problems, 3-4 numbers and a target",
             {"countdown", "train/countdown/test.jsonl", "8693fbb4679c7ff7ca6e8870ea75e1c38db6e9b7597883cadce7f07493c0d6c6",
              "2001 problems", "data/countdown/test.parquet in Jiayi-Pan/TinyZero (PR #93), as JSONL"},
             {}, 1};
  }
}

void CountdownTask::load(const DataDirectory& data) {
  auto path = data.require(info_.dataset);
  dataset_sha256_ = sha256_file(path);
  problems_.clear();
  numbers_.clear();
  for_each_jsonl(path, [&](const nlohmann::json& record, std::size_t line) {
    auto where = path.string() + ":" + std::to_string(line);
    if (!record.contains("target") || !record["target"].is_number_integer())
      throw DataError(where + ": missing integer field 'target'");
    if (!record.contains("nums") || !record["nums"].is_array() || record["nums"].empty())
      throw DataError(where + ": missing array field 'nums'");
    // The user turn of the dataset's prompt: between "User: " and "\nAssistant:".
    std::string content;
    if (record.contains("prompt") && record["prompt"].is_array() && !record["prompt"].empty())
      content = record["prompt"][0].value("content", "");
    std::size_t user = content.find("User: "), assistant = content.find("\nAssistant:");
    if (user == std::string::npos || assistant == std::string::npos || assistant < user)
      throw DataError(where + ": prompt[0].content has no 'User: ... \\nAssistant:' turn");
    Problem problem;
    problem.statement = content.substr(user + 6, assistant - user - 6);
    problem.reference = std::to_string(record["target"].get<std::int64_t>());
    std::vector<std::int64_t> numbers;
    std::string listed;
    for (const auto& n : record["nums"]) {
      if (!n.is_number_integer()) throw DataError(where + ": 'nums' holds a non-integer");
      numbers.push_back(n.get<std::int64_t>());
      listed += (listed.empty() ? "" : ",") + std::to_string(numbers.back());
    }
    problem.labels["numbers"] = listed;
    problem.id = info_.name + "-" + std::to_string(problems_.size());
    problems_.push_back(std::move(problem));
    numbers_.push_back(std::move(numbers));
  });
  if (problems_.empty()) throw DataError(path.string() + ": no problems");
}

SamplePrompt CountdownTask::prompt(const Problem& problem, std::uint64_t, const GradingConfig& config) const {
  return {apply_template(config.prompt_template, problem.statement), std::nullopt};
}

grading::Verdict CountdownTask::grade(const Problem& problem, std::uint64_t, const std::string& completion,
                                      const std::string& prompt, const GradingConfig& config) const {
  const std::size_t index = static_cast<std::size_t>(&problem - problems_.data());
  if (index >= numbers_.size()) {
    grading::Verdict error;
    error.kind = grading::VerdictKind::grader_error;
    error.reason = "the problem is not one of this task's";
    return error;
  }
  return grading::grade_countdown(completion, numbers_[index], std::stoll(problem.reference), config.math.think_policy, prompt);
}

bool CountdownTask::same_answer(const Problem&, const grading::Verdict& a, const grading::Verdict& b, const GradingConfig&) const {
  // Two different expressions that both reach the target are the same answer; otherwise the same text.
  if (a.extracted.empty() || b.extracted.empty()) return false;
  return (a.is_correct() && b.is_correct()) || a.canonical == b.canonical;
}

nlohmann::json CountdownTask::grading_options(const GradingConfig& config) const {
  return {{"think_policy", std::string(grading::think_policy_name(config.math.think_policy))},
          {"answer", "last <answer> tag; each number once; exact rational arithmetic"},
          {"prompt_template", std::string(prompt_template_name(config.prompt_template))}};
}

}  // namespace r1lab::tasks
