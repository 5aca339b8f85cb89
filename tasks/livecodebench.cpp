#include "tasks/livecodebench.h"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tasks/code/lcb_test_codec.h"

namespace r1lab::tasks {

namespace fs = std::filesystem;

namespace {

const DatasetSpec kJoined = {"livecodebench", "livecodebench/lcb_2408_2501_public_tests_joined.jsonl",
                             "ebc41c061a34cc56bbb845aad2509cbbbdba966044df581514d1370665940c89",
                             "279 problems, public tests only",
                             "rllm livecodebench.json joined with QwQ eval/data/livecodebench_v5.jsonl (see ../shared/data/livecodebench)"};
const DatasetSpec kQwqPrompts = {"livecodebench-prompts", "livecodebench/qwq_livecodebench_v5_2408_2502.jsonl",
                                 "6441538a8f5f4d598480315fb5b0b4ca47489bfb7d496972e290d06e39679905", "279 prompts",
                                 "eval/data/livecodebench_v5.jsonl in QwenLM/QwQ"};

std::string platform_of(const std::string& question_id, const std::string& declared) {
  if (!declared.empty()) return declared;
  if (!question_id.empty() && std::all_of(question_id.begin(), question_id.end(), ::isdigit)) return "leetcode";
  if (question_id.find("abc") == 0 || question_id.find("arc") == 0 || question_id.find("agc") == 0) return "atcoder";
  return "codeforces";
}

// "def name(" in the starter code's class Solution.
std::string function_name_of(const std::string& starter_code) {
  auto at = starter_code.find("def ");
  if (at == std::string::npos) return "";
  at += 4;
  auto end = starter_code.find('(', at);
  if (end == std::string::npos) return "";
  std::string name = starter_code.substr(at, end - at);
  name.erase(std::remove_if(name.begin(), name.end(), ::isspace), name.end());
  return name;
}

std::vector<code::TestCase> tests_from_json(const nlohmann::json& list, const std::string& where) {
  std::vector<code::TestCase> tests;
  if (!list.is_array()) throw DataError(where + ": tests must be a JSON list");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& t = list[i];
    if (!t.is_object() || !t.contains("input") || !t.contains("output"))
      throw DataError(where + "[" + std::to_string(i) + "]: a test needs input and output");
    code::TestCase test;
    test.input = t["input"].get<std::string>();
    test.output = t["output"].get<std::string>();
    test.kind = t.value("testtype", "stdin") == "functional" ? code::TestKind::functional : code::TestKind::standard_io;
    tests.push_back(std::move(test));
  }
  return tests;
}

}  // namespace

const std::string& livecodebench_python_prelude() {
  // lcb_runner/evaluation/testing_util.py puts these imports before every program (and raises the
  // recursion limit), so solutions that use e.g. List or deque without importing them still run.
  static const std::string prelude = [] {
    std::string text;
    const char* modules[] = {"string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random",
                             "statistics", "itertools", "functools", "operator", "io", "sys", "json"};
    for (const char* m : modules) text += std::string("from ") + m + " import *\n";
    text += "from builtins import *\nfrom typing import *\n";
    for (const char* m : modules) text += std::string("import ") + m + "\n";
    text += "sys.setrecursionlimit(50000)\n";
    // compute_code_generation_metrics.py raises Python 3.11's limit on int <-> str conversions in the
    // checker's process, which the programs run in: printing a 5,000-digit integer works there.
    text += "if hasattr(sys, 'set_int_max_str_digits'):\n    sys.set_int_max_str_digits(50000)\n\n";
    return text;
  }();
  return prelude;
}

code::CodeProblem livecodebench_code_problem(std::vector<code::TestCase> tests, const std::string& function_name) {
  code::CodeProblem code;
  code.tests = std::move(tests);
  code.time_limit_seconds = 6;   // run_test(timeout=6): signal.alarm, so wall-clock seconds
  code.time_limit_clock = code::TimeLimitClock::wall;
  code.memory_limit_mb = 2048;
  code.function_name = function_name;
  code.python_prelude = livecodebench_python_prelude();
  code.comparison = code::ComparisonKind::lcb;
  return code;
}

std::string livecodebench_prompt(const std::string& question, const std::string& starter_code) {
  std::string text = "You will be given a question (problem specification) and will generate a correct Python program "
                     "that matches the specification and passes all tests.\n\nQuestion: " + question + "\n\n";
  if (!starter_code.empty())
    text += "You will use the following starter code to write the solution to the problem and enclose your code within "
            "delimiters.\n```python\n" + starter_code + "\n```\n\n";
  else
    text += "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the "
            "sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, "
            "it reads the inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```\n\n";
  return text;
}

LiveCodeBenchTask::LiveCodeBenchTask(LiveCodeBenchWindow window) : window_(std::move(window)) {
  bool paper = window_.from == "2024-08-01" && window_.to == "2025-01-31";
  info_.name = paper ? "livecodebench" : "livecodebench:" + window_.from + ":" + window_.to;
  info_.version = 2;   // 2: the checker's wall clock, Unicode, Python == and module functions (docs/livecodebench.md)
  info_.description = "LiveCodeBench code generation, contests " + window_.from + " .. " + window_.to +
                      " (pass@1; public tests only unless the upstream release files are present)";
  info_.dataset = kJoined;
  info_.breakdown_labels = {"platform", "month", "difficulty"};
  info_.default_samples = 16;
}

void LiveCodeBenchTask::load(const DataDirectory& data) {
  clear_problems();
  prompts_.clear();
  fs::path upstream = data.root() / "livecodebench" / "code_generation_lite";
  if (fs::is_directory(upstream)) load_upstream(upstream);
  else load_joined(data);
  notes_ = {{"tests", public_tests_only_ ? "public tests only (an optimistic upper bound of LiveCodeBench pass@1)"
                                         : "public and private tests"},
            {"window", {window_.from, window_.to}}};
}

void LiveCodeBenchTask::load_joined(const DataDirectory& data) {
  public_tests_only_ = true;
  info_.dataset = kJoined;
  auto path = data.require(kJoined);
  dataset_sha256_ = sha256_file(path);
  fs::path prompts_path = data.root() / kQwqPrompts.relative_path;
  std::unordered_map<std::string, std::string> prompt_by_question;
  if (fs::exists(prompts_path))
    for_each_jsonl(prompts_path, [&](const nlohmann::json& r, std::size_t) {
      prompt_by_question[r.value("question_id", "")] = r.value("prompt", "");
    });
  for_each_jsonl(path, [&](const nlohmann::json& r, std::size_t line) {
    std::string where = path.string() + ":" + std::to_string(line);
    require_fields(r, where, {"question_id", "contest_date", "question_content", "starter_code", "public_tests"});
    if (!in_window(r)) return;
    std::string starter = r["starter_code"].get<std::string>();
    auto found = prompt_by_question.find(r["question_id"].get<std::string>());
    std::string prompt = found != prompt_by_question.end() ? found->second : "";
    add_record(r, "", tests_from_json(r["public_tests"], where + ": public_tests"), function_name_of(starter), prompt);
  });
}

void LiveCodeBenchTask::load_upstream(const fs::path& folder) {
  public_tests_only_ = false;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".jsonl") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw DataError(folder.string() + ": no .jsonl files (expected test.jsonl .. test6.jsonl of code_generation_lite)");
  info_.dataset = {"livecodebench", fs::relative(folder, folder.parent_path().parent_path()).string(), "", "upstream release",
                   "livecodebench/code_generation_lite on Hugging Face"};
  std::string hashes;
  for (const auto& file : files) {
    hashes += sha256_file(file);
    for_each_jsonl(file, [&](const nlohmann::json& r, std::size_t line) {
      std::string where = file.string() + ":" + std::to_string(line);
      require_fields(r, where, {"question_id", "contest_date", "question_content", "public_test_cases", "private_test_cases"});
      if (!in_window(r)) return;   // before decoding: private tests are large
      auto public_tests = nlohmann::json::parse(r["public_test_cases"].get<std::string>(), nullptr, false);
      if (public_tests.is_discarded()) throw DataError(where + ": public_test_cases is not JSON");
      auto tests = tests_from_json(public_tests, where + ": public_test_cases");
      std::string packed = r["private_test_cases"].get<std::string>();
      nlohmann::json private_tests;
      try {
        std::string text = packed.empty() || packed.front() == '[' ? packed : code::decode_lcb_private_tests(packed);
        private_tests = nlohmann::json::parse(text.empty() ? "[]" : text);
      } catch (const std::exception& e) {
        throw DataError(where + ": private_test_cases: " + e.what());
      }
      for (auto& t : tests_from_json(private_tests, where + ": private_test_cases")) tests.push_back(std::move(t));
      auto metadata = nlohmann::json::parse(r.value("metadata", std::string("{}")), nullptr, false);
      std::string function_name = metadata.is_object() && metadata.contains("func_name")
                                      ? metadata["func_name"].get<std::string>()
                                      : function_name_of(r.value("starter_code", ""));
      add_record(r, r.value("platform", ""), std::move(tests), function_name, "");
    });
  }
  dataset_sha256_ = sha256_text(hashes);
}

bool LiveCodeBenchTask::in_window(const nlohmann::json& record) const {
  std::string date = record["contest_date"].get<std::string>().substr(0, 10);
  return date >= window_.from && date <= window_.to;
}

void LiveCodeBenchTask::add_record(const nlohmann::json& record, const std::string& platform,
                                   std::vector<code::TestCase> tests, const std::string& function_name,
                                   const std::string& verbatim_prompt) {
  std::string date = record["contest_date"].get<std::string>().substr(0, 10);
  Problem problem;
  problem.id = record["question_id"].get<std::string>();
  problem.statement = record["question_content"].get<std::string>();
  problem.labels["platform"] = platform_of(problem.id, platform);
  problem.labels["month"] = date.substr(0, 7);
  if (record.contains("difficulty") && record["difficulty"].is_string())
    problem.labels["difficulty"] = record["difficulty"].get<std::string>();
  code::CodeProblem code = livecodebench_code_problem(std::move(tests), function_name);
  code.public_tests_only = public_tests_only_;
  prompts_[problem.id] = !verbatim_prompt.empty()
                             ? verbatim_prompt
                             : livecodebench_prompt(problem.statement, record.value("starter_code", std::string()));
  add_problem(std::move(problem), std::move(code));
}

SamplePrompt LiveCodeBenchTask::prompt(const Problem& problem, std::uint64_t, const GradingConfig&) const {
  return {prompts_.at(problem.id), std::nullopt};
}

}  // namespace r1lab::tasks
