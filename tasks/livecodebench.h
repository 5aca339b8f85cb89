// tasks/livecodebench.h — LiveCodeBench code generation (pass@1 over k samples), the paper's window.
//
// Data, in order of preference:
//   livecodebench/code_generation_lite/*.jsonl   upstream release files (public + private tests; the
//                                                private ones base64/zlib/pickle-packed, decoded here)
//   livecodebench/lcb_2408_2501_public_tests_joined.jsonl   the R1 window with public tests only
// Problems are kept when their contest date lies in the inclusive window [from, to] (default the
// paper's, 2024-08-01 .. 2025-01-31). Stdin problems (AtCoder, Codeforces) and functional ones (LeetCode
// `class Solution`, or a module-level function) are graded as LiveCodeBench's runner does
// (tasks/code/output_compare.h, docs/livecodebench.md), 6 s of wall-clock time per test, stopping at the
// first failure. Breakdowns: platform, month, difficulty (when the data has it).
// The prompt is LiveCodeBench's for reasoning models; where the QwQ prompt file is present its prompts
// are used verbatim (they are the same text).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tasks/code_task.h"

namespace r1lab::tasks {

struct LiveCodeBenchWindow {
  std::string from = "2024-08-01";
  std::string to = "2025-01-31";
};

class LiveCodeBenchTask : public CodeTask {
 public:
  explicit LiveCodeBenchTask(LiveCodeBenchWindow window = {});
  const TaskInfo& info() const override { return info_; }
  void load(const DataDirectory& data) override;
  SamplePrompt prompt(const Problem& problem, std::uint64_t sample_index, const GradingConfig& config) const override;

  bool public_tests_only() const { return public_tests_only_; }

 private:
  void load_joined(const DataDirectory& data);
  void load_upstream(const std::filesystem::path& folder);
  bool in_window(const nlohmann::json& record) const;   // contest date within [from, to]
  // One record of either format, with LiveCodeBench's limits and prelude; the prompt is `verbatim_prompt`
  // when given, else rendered from the statement.
  void add_record(const nlohmann::json& record, const std::string& platform, std::vector<code::TestCase> tests,
                  const std::string& function_name, const std::string& verbatim_prompt);
  TaskInfo info_;
  LiveCodeBenchWindow window_;
  bool public_tests_only_ = true;
  std::unordered_map<std::string, std::string> prompts_;   // id -> verbatim prompt (QwQ file)
};

// One problem's tests with LiveCodeBench's grading settings: 6 s of wall-clock time per test, 2 GiB,
// its import prelude, its comparison; `function_name` for functional tests (empty for stdin ones).
code::CodeProblem livecodebench_code_problem(std::vector<code::TestCase> tests, const std::string& function_name);
// LiveCodeBench's prompt for reasoning models, from the statement and the starter code.
std::string livecodebench_prompt(const std::string& question, const std::string& starter_code);
// The imports LiveCodeBench puts before every program.
const std::string& livecodebench_python_prelude();

}  // namespace r1lab::tasks
