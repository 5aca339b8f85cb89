#include "tasks/registry.h"

#include <cctype>
#include <functional>
#include <stdexcept>
#include <utility>

#include "tasks/codeforces.h"
#include "tasks/addition.h"
#include "tasks/countdown.h"
#include "tasks/gpqa_diamond.h"
#include "tasks/humaneval.h"
#include "tasks/livecodebench.h"
#include "tasks/math_competition.h"

namespace r1lab::tasks {

namespace {

MathCompetitionSpec math500() {
  return {{"math500", 1, "MATH-500: 500 competition problems (PRM800K test split), free-form answers",
           {"math500", "math500/test.jsonl", "35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
            "500 problems", "prm800k/math_splits/test.jsonl in openai/prm800k (also HuggingFaceH4/MATH-500)"},
           {"subject", "level"}, 4},
          ProblemIdScheme::unique_id, "problem", "answer", 0, false};
}

MathCompetitionSpec aime24() {
  return {{"aime24", 1, "AIME 2024 I and II: 30 problems, integer answers 0-999",
           {"aime24", "aime/aime24.jsonl", "af2b8bd2aa911b6333ad0df32f3ca05c7ae8ed10f1731f4372c8ae26990bf7ac",
            "30 problems", "evaluation/data/aime24/test.jsonl in QwenLM/Qwen2.5-Math"},
           {}, 64},
          ProblemIdScheme::aops_url, "problem", "answer", 2024, true};
}

MathCompetitionSpec aime25() {
  return {{"aime25", 1, "AIME 2025 I and II: 30 problems, integer answers 0-999",
           {"aime25", "aime/aime25.jsonl", "6caa6dcafd9a6ba06babe30e43e9a76a8272c12d2a84e479601754c1c701742c",
            "30 problems", "data/aime25.jsonl in microsoft/G-KV (same answers as QwenLM/QwQ eval/data/aime25.jsonl)"},
           {}, 64},
          ProblemIdScheme::aime_row_halves, "question", "answer", 2025, true};
}

MathCompetitionSpec amc23() {
  return {{"amc23", 1, "AMC 12 2023 A and B: 40 problems with numeric answers",
           {"amc23", "aime/amc23.jsonl", "43707e1ca784602d8479de24ee8ce36609dbebc46dd152b0b12a46611aa898a4",
            "40 problems", "evaluation/data/amc23/test.jsonl in QwenLM/Qwen2.5-Math"},
           {}, 64},
          ProblemIdScheme::aops_url, "problem", "answer", 2023, false};
}

MathCompetitionSpec gsm8k(bool train) {
  MathCompetitionSpec spec{
      {train ? "gsm8k_train" : "gsm8k", 1,
       train ? "GSM8K train: 7,473 grade-school word problems (for SFT and GRPO)" : "GSM8K test: 1,319 grade-school word problems",
       {train ? "gsm8k_train" : "gsm8k", train ? "train/gsm8k/train.jsonl" : "train/gsm8k/test.jsonl",
        train ? "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465"
              : "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14",
        train ? "7473 problems" : "1319 problems",
        std::string("grade_school_math/data/") + (train ? "train" : "test") + ".jsonl in openai/grade-school-math"},
       {}, 1},
      ProblemIdScheme::row_number, "question", "answer", 0, false};
  spec.reference_format = ReferenceFormat::after_hashes;
  return spec;
}

MathCompetitionSpec math_train() {
  MathCompetitionSpec spec{
      {"math_train", 1, "MATH train (DeepScaleR's 7,474 problems less 4 without an answer; disjoint from MATH-500)",
       {"math_train", "train/math/deepscaler_math_train.json", "569230b362fd501e1a33d8f29aae3b4b989d32e2b91b07c3f48493528c3bf6d2",
        "7474 problems", "rllm/data/train/math/math.json in agentica-project/rllm"},
       {"type"}, 1},
      ProblemIdScheme::row_number, "problem", "answer", 0, false};
  spec.json_array = true;
  spec.skip_unanswered = true;
  return spec;
}

const std::vector<std::pair<std::string, std::function<std::unique_ptr<Task>()>>>& table() {
  static const std::vector<std::pair<std::string, std::function<std::unique_ptr<Task>()>>> rows = {
      {"aime24", [] { return std::make_unique<MathCompetitionTask>(aime24()); }},
      {"aime25", [] { return std::make_unique<MathCompetitionTask>(aime25()); }},
      {"amc23", [] { return std::make_unique<MathCompetitionTask>(amc23()); }},
      {"math500", [] { return std::make_unique<MathCompetitionTask>(math500()); }},
      {"gpqa_diamond", [] { return std::make_unique<GpqaDiamondTask>(); }},
      {"livecodebench", [] { return std::make_unique<LiveCodeBenchTask>(); }},
      {"codeforces", [] { return std::make_unique<CodeforcesTask>(CodeforcesSource::deepcoder); }},
      {"codecontests", [] { return std::make_unique<CodeforcesTask>(CodeforcesSource::codecontests); }},
      {"humaneval", [] { return std::make_unique<HumanEvalTask>(); }},
      // Training sets as tasks: prompts for train sft/grpo, and their held-out splits for evaluation.
      {"gsm8k", [] { return std::make_unique<MathCompetitionTask>(gsm8k(false)); }},
      {"gsm8k_train", [] { return std::make_unique<MathCompetitionTask>(gsm8k(true)); }},
      {"math_train", [] { return std::make_unique<MathCompetitionTask>(math_train()); }},
      {"countdown", [] { return std::make_unique<CountdownTask>(false); }},
      {"countdown_train", [] { return std::make_unique<CountdownTask>(true); }},
      {"addition", [] { return std::make_unique<AdditionTask>(false); }},
      {"addition_train", [] { return std::make_unique<AdditionTask>(true); }},
  };
  return rows;
}

}  // namespace

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : table()) names.push_back(name);
  return names;
}

std::unique_ptr<Task> make_task(const std::string& name) {
  // livecodebench:FROM:TO selects another inclusive contest-date window (YYYY-MM-DD).
  static const std::string kWindowed = "livecodebench:";
  if (name.rfind(kWindowed, 0) == 0) {
    auto rest = name.substr(kWindowed.size());
    auto colon = rest.find(':');
    auto is_date = [](const std::string& d) {
      return d.size() == 10 && d[4] == '-' && d[7] == '-' && std::isdigit(static_cast<unsigned char>(d[0]));
    };
    if (colon == std::string::npos || !is_date(rest.substr(0, colon)) || !is_date(rest.substr(colon + 1)))
      throw std::invalid_argument("task '" + name + "': write livecodebench:YYYY-MM-DD:YYYY-MM-DD (an inclusive contest-date window)");
    return std::make_unique<LiveCodeBenchTask>(LiveCodeBenchWindow{rest.substr(0, colon), rest.substr(colon + 1)});
  }
  for (const auto& [row_name, factory] : table())
    if (row_name == name) return factory();
  std::string known;
  for (const auto& n : task_names()) known += (known.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown task '" + name + "'; known tasks: " + known);
}

}  // namespace r1lab::tasks
