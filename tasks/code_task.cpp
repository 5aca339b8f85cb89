#include "tasks/code_task.h"

#include <algorithm>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace r1lab::tasks {

void CodeTask::add_problem(Problem problem, code::CodeProblem code) {
  if (!index_by_id_.emplace(problem.id, problems_.size()).second)
    throw DataError("duplicate problem id '" + problem.id + "' in " + info().dataset.relative_path);
  problems_.push_back(std::move(problem));
  code_problems_.push_back(std::move(code));
}

void CodeTask::clear_problems() {
  problems_.clear();
  code_problems_.clear();
  index_by_id_.clear();
}

const code::CodeProblem& CodeTask::code_problem(const Problem& problem) const {
  auto it = index_by_id_.find(problem.id);
  if (it == index_by_id_.end()) throw std::logic_error("not a problem of this task: " + problem.id);
  return code_problems_[it->second];
}

std::string CodeTask::as_completion(const std::string& source, code::Language language) {
  return "<think>\nreference solution\n</think>\n```" + std::string(language == code::Language::cpp ? "cpp" : "python") +
         "\n" + source + (source.empty() || source.back() == '\n' ? "" : "\n") + "```\n";
}

grading::Verdict CodeTask::grade(const Problem& problem, std::uint64_t, const std::string& completion,
                                 const std::string& prompt, const GradingConfig& config) const {
  return code::grade_code(code_problem(problem), completion, prompt, config.code).verdict;
}

bool CodeTask::same_answer(const Problem&, const grading::Verdict& a, const grading::Verdict& b, const GradingConfig&) const {
  return !a.canonical.empty() && a.canonical == b.canonical;
}

nlohmann::json CodeTask::grading_options(const GradingConfig& config) const { return code::to_json(config.code); }

void CodeTask::check_grading_environment(const GradingConfig& config) const {
  code::Sandbox sandbox(config.code.sandbox);   // throws with what to do when it cannot run here
  code::sandbox_staging_root();
}

std::chrono::milliseconds CodeTask::grading_deadline(const GradingConfig& config) const {
  // Compile (up to 60 s) plus every test at its limit, with LiveCodeBench's whole-program allowance.
  double longest = 0;
  for (const auto& p : code_problems_) {
    double limit = (config.code.time_limit_seconds > 0 ? config.code.time_limit_seconds : p.time_limit_seconds) *
                   config.code.time_scale;
    longest = std::max(longest, (limit * 1.5 + 2) * static_cast<double>(p.tests.size()) + 10);
  }
  return std::chrono::milliseconds(static_cast<long long>((60 + longest) * 1000));
}

nlohmann::json CodeTask::task_results(const std::vector<std::vector<grading::Verdict>>& verdicts_by_problem,
                                      const DataDirectory&, const GradingConfig& config) const {
  nlohmann::json out = notes_.is_null() ? nlohmann::json::object() : notes_;
  std::map<std::string, long> statuses;
  for (const auto& list : verdicts_by_problem)
    for (const auto& v : list) statuses[v.status.empty() ? std::string(grading::verdict_kind_name(v.kind)) : v.status]++;
  out["execution_status_counts"] = statuses;
  out["sandbox"] = code::sandbox_mode_name(config.code.sandbox);
  return out;
}

}  // namespace r1lab::tasks
