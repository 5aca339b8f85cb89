#include <iostream>

#include "harness/commands.h"
#include "tasks/data_dir.h"
#include "tasks/grading/choice_grader.h"
#include "tasks/grading/grading_pool.h"
#include "tasks/grading/math_grader.h"

namespace r1lab::harness {

namespace {

std::string as_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "";
  return value.dump();
}

}  // namespace

void add_grade_command(CLI::App& app) {
  struct Flags {
    std::string kind = "math", cases;
    GradingFlags grading;
    int workers = 0;
  };
  auto flags = std::make_shared<Flags>();
  // The same defaults as `score` (GradingFlags), so a case graded here gets the verdict a run would give.
  auto* command = app.add_subcommand(
      "grade", "Grade ad-hoc {\"reference\", \"completion\"} pairs, one JSON line each; an optional \"question\" (math: the problem; gpqa: the question and its options)");
  command->add_option("--kind", flags->kind, "math or gpqa (reference is then the correct letter)")
      ->check(CLI::IsMember({"math", "gpqa"}));
  command->add_option("--cases", flags->cases, "JSONL file of {\"reference\": ..., \"completion\": ...}")->required();
  command->add_option("-j,--jobs", flags->workers, "Grading worker processes");
  add_grading_flags(*command, flags->grading);
  command->callback([flags] {
    auto config = grading_config_from(flags->grading);
    struct Case { std::string reference, completion, question; };
    std::vector<Case> cases;
    tasks::for_each_jsonl(flags->cases, [&](const nlohmann::json& record, std::size_t line) {
      if (!record.contains("reference") || !record.contains("completion"))
        throw tasks::DataError(flags->cases + ":" + std::to_string(line) + ": needs \"reference\" and \"completion\"");
      cases.push_back({as_text(record["reference"]), as_text(record["completion"]),
                       record.contains("question") ? as_text(record["question"]) : std::string()});
    });
    grading::PoolOptions pool;
    pool.workers = flags->workers;
    pool.hard_deadline = std::chrono::milliseconds(flags->grading.deadline_ms * 5 + 1000);
    bool math = flags->kind == "math";
    // Raw payloads, not grade_in_worker_processes: this command prints its own line per case.
    auto results = grading::run_in_worker_processes(cases.size(), pool, [&](std::size_t i) {
      grading::Verdict v;
      if (math) {
        v = grading::grade_math(cases[i].completion, cases[i].reference, config.math, {}, cases[i].question);
      } else {
        char letter = cases[i].reference.empty() ? 'A' : static_cast<char>(std::toupper(cases[i].reference[0]));
        v = grading::grade_choice(cases[i].completion, {0, 1, 2, 3}, letter - 'A', config.choice, {}, cases[i].question);
      }
      return nlohmann::json{{"correct", v.is_correct()}, {"verdict", grading::verdict_kind_name(v.kind)},
                            {"extracted", v.extracted}, {"canonical", v.canonical}, {"reason", v.reason}}
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    });
    for (const auto& result : results) {
      if (result.ok) std::cout << result.payload << "\n";
      else
        std::cout << nlohmann::json{{"correct", false}, {"verdict", "timeout"}, {"extracted", ""}, {"canonical", ""},
                                    {"reason", result.failure}}.dump() << "\n";
    }
  });
}

}  // namespace r1lab::harness
