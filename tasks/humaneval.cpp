#include "tasks/humaneval.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "tasks/code/code_extract.h"

namespace r1lab::tasks {

namespace {

const DatasetSpec kHumanEval = {"humaneval", "humaneval/HumanEval.jsonl",
                                "1d49078ba3e2b196b9344535bef34a43021f038fad9561d6ee7c53450609a6a2", "164 problems",
                                "data/HumanEval.jsonl.gz in openai/human-eval (gunzipped)"};

std::string import_lines(const std::string& prompt) {
  std::istringstream in(prompt);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("import ", 0) == 0 || line.rfind("from ", 0) == 0) out += line + "\n";
  return out;
}

}  // namespace

HumanEvalTask::HumanEvalTask() {
  info_.name = "humaneval";
  info_.version = 1;
  info_.description = "HumanEval: 164 Python functions with unit tests (pass@1)";
  info_.dataset = kHumanEval;
  info_.default_samples = 4;
}

void HumanEvalTask::load(const DataDirectory& data) {
  clear_problems();
  prompt_and_canonical_.clear();
  auto path = data.require(kHumanEval);
  dataset_sha256_ = sha256_file(path);
  for_each_jsonl(path, [&](const nlohmann::json& r, std::size_t line) {
    require_fields(r, path.string() + ":" + std::to_string(line), {"task_id", "prompt", "entry_point", "canonical_solution", "test"});
    Problem problem;
    problem.id = r["task_id"].get<std::string>();
    problem.statement = r["prompt"].get<std::string>();
    problem.reference = r["entry_point"].get<std::string>();
    code::CodeProblem code;
    code.tests = {code::TestCase{}};   // one run: the asserts of check()
    code.comparison = code::ComparisonKind::exit_status;
    code.time_limit_seconds = 3;
    code.memory_limit_mb = 1024;
    code.python_epilogue = "\n\n" + r["test"].get<std::string>() + "\n\ncheck(" + problem.reference + ")\n";
    prompt_and_canonical_[problem.id] = {problem.statement, r["canonical_solution"].get<std::string>()};
    add_problem(std::move(problem), std::move(code));
  });
}

SamplePrompt HumanEvalTask::prompt(const Problem& problem, std::uint64_t, const GradingConfig&) const {
  return {"Complete the following Python function. Put the complete function, with its signature, in one ```python "
          "code block at the end of your answer.\n\n```python\n" + problem.statement + "```\n",
          std::nullopt};
}

grading::Verdict HumanEvalTask::grade(const Problem& problem, std::uint64_t, const std::string& completion,
                                      const std::string& prompt, const GradingConfig& config) const {
  // Decide between "full function" and "body completion" here, then grade the program as any code task.
  code::CodeProblem code = code_problem(problem);
  auto region = grading::answer_region(completion, config.code.think_policy, prompt);
  if (region) {
    auto block = code::extract_last_code_block(*region, code::Language::python);
    if (block) {
      bool defines_entry = block->source.find("def " + problem.reference + "(") != std::string::npos;
      code.python_prelude = defines_entry ? import_lines(problem.statement) : problem.statement;
    }
  }
  return code::grade_code(code, completion, prompt, config.code).verdict;
}

std::string HumanEvalTask::canonical_completion(const Problem& problem) const {
  const auto& [prompt, canonical] = prompt_and_canonical_.at(problem.id);
  return as_completion(prompt + canonical, code::Language::python);
}

}  // namespace r1lab::tasks
