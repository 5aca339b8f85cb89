// One runner for the golden grading cases in tests/data/grading/*.jsonl. Each line is a case:
// {"reference", "completion", "expected": verdict, "covers": what it checks, "options": {...}}; a math case
// may carry the "question" (an answer restating its expression is wrong: question_restatement.h).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tasks/grading/choice_grader.h"
#include "tasks/grading/math_grader.h"

namespace r1lab::grading {
namespace {

struct GoldenCase {
  nlohmann::json json;
  int line;
};

std::vector<GoldenCase> read_cases(const std::string& name) {
  std::ifstream in(std::string(R1LAB_TEST_DATA) + "/grading/" + name);
  std::vector<GoldenCase> cases;
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (!text.empty()) cases.push_back({nlohmann::json::parse(text), line});
  }
  return cases;
}

MathGradingOptions math_options(const nlohmann::json& options) {
  MathGradingOptions o;
  o.think_policy = think_policy_from_name(options.value("think", "auto"));
  o.fallback_extraction = options.value("fallback", false);
  if (options.value("unreduced_fractions", "accept") == "reject") o.unreduced_fractions = UnreducedFractionPolicy::reject;
  if (options.value("percent", "strip") == "either") o.percent = PercentPolicy::either;
  o.float_rel_tol = options.value("float_rel_tol", o.float_rel_tol);
  o.integer_answers = options.value("integer_answers", false);
  return o;
}

TEST(GoldenCases, Math) {
  auto cases = read_cases("math_cases.jsonl");
  ASSERT_GE(cases.size(), 150u);
  std::set<std::string> expected_kinds;
  for (const auto& c : cases) {
    auto options = math_options(c.json.value("options", nlohmann::json::object()));
    Verdict v = grade_math(c.json["completion"].get<std::string>(), c.json["reference"].get<std::string>(), options, {},
                           c.json.value("question", ""));
    std::string expected = c.json["expected"];
    expected_kinds.insert(expected);
    EXPECT_EQ(verdict_kind_name(v.kind), expected)
        << "math_cases.jsonl:" << c.line << " (" << c.json["covers"].get<std::string>() << ")\n  reference "
        << c.json["reference"] << "\n  extracted " << v.extracted << "\n  reason    " << v.reason;
  }
  // The file must exercise every verdict.
  EXPECT_EQ(expected_kinds.size(), 5u);
}

TEST(GoldenCases, Gpqa) {
  auto cases = read_cases("gpqa_cases.jsonl");
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    ChoiceGradingOptions options;
    options.think_policy = think_policy_from_name(c.json.value("options", nlohmann::json::object()).value("think", "auto"));
    int correct = c.json["reference"].get<std::string>()[0] - 'A';
    Verdict v = grade_choice(c.json["completion"].get<std::string>(), {0, 1, 2, 3}, correct, options, {},
                             c.json.value("question", ""));
    EXPECT_EQ(verdict_kind_name(v.kind), c.json["expected"].get<std::string>())
        << "gpqa_cases.jsonl:" << c.line << " (" << c.json["covers"].get<std::string>() << "), extracted '"
        << v.extracted << "': " << v.reason;
  }
}

TEST(ChoiceGrader, MapsTheShownLetterBackThroughThePermutation) {
  ChoiceGradingOptions options;
  options.think_policy = ThinkPolicy::none;
  // Shown order: A = original 2, B = original 0 (the correct one), C = original 3, D = original 1.
  std::array<int, 4> permutation = {2, 0, 3, 1};
  EXPECT_TRUE(grade_choice("Answer: B", permutation, 0, options).is_correct());
  EXPECT_FALSE(grade_choice("Answer: A", permutation, 0, options).is_correct());
  EXPECT_EQ(grade_choice("Answer: D", permutation, 0, options).canonical, "choice1");
}

}  // namespace
}  // namespace r1lab::grading
