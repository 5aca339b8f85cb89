// Tasks on the real data in ../shared/data: counts, stable ids, answers, prompts, checksums.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "tasks/registry.h"

namespace r1lab::tasks {
namespace {

std::unique_ptr<Task> loaded(const std::string& name) {
  auto task = make_task(name);
  task->load(DataDirectory(R1LAB_SHARED_DATA, "test"));
  return task;
}

TEST(Tasks, CountsIdsAndChecksums) {
  struct Expect { std::string name; std::size_t count; std::string first_id; };
  for (const auto& e : std::vector<Expect>{{"aime24", 30, "2024-I-1"}, {"aime25", 30, "2025-I-1"}, {"amc23", 40, "2023-12A-1"},
                                            {"math500", 500, "test/precalculus/807.json"}, {"gpqa_diamond", 198, "rec06pnAkLOr2t2mp"},
                                            {"gsm8k_train", 7473, "gsm8k_train-0"}, {"gsm8k", 1319, "gsm8k-0"},
                                            {"math_train", 7470, "math_train-0"}, {"countdown_train", 8001, "countdown_train-0"},
                                            {"countdown", 2001, "countdown-0"}, {"addition_train", 50000, "70042+97149"},
                                            {"addition", 1000, "17733+47316"}}) {
    auto task = loaded(e.name);
    ASSERT_EQ(task->problems().size(), e.count) << e.name;
    EXPECT_EQ(task->problems()[0].id, e.first_id) << e.name;
    EXPECT_EQ(task->dataset_sha256(), task->info().dataset.sha256) << e.name;
    std::set<std::string> ids;
    for (const auto& p : task->problems()) ids.insert(p.id);
    EXPECT_EQ(ids.size(), e.count) << e.name << ": ids must be unique";
  }
}

TEST(Tasks, AnswersInTheDatasetsFormats) {
  auto aime = loaded("aime24");
  std::set<std::string> padded;
  for (const auto& p : aime->problems()) if (p.reference.size() == 3 && p.reference[0] == '0') padded.insert(p.reference);
  EXPECT_EQ(padded.size(), 7u);  // "025", "073", ... compared as integers
  EXPECT_EQ(loaded("amc23")->problems()[0].reference, "27");  // 27.0 in the file
  EXPECT_EQ(loaded("aime25")->problems()[15].id, "2025-II-1");
}

TEST(Tasks, MixedNumberReferencesOfMath500AreGradedBothWays) {
  // MATH-500 writes two references as mixed numbers; read as products they would accept the wrong value.
  auto task = loaded("math500");
  GradingConfig config;
  config.math.think_policy = grading::ThinkPolicy::none;
  std::map<std::string, const Problem*> by_id;
  for (const auto& p : task->problems()) by_id[p.id] = &p;
  auto correct = [&](const std::string& id, const std::string& answer) {
    return task->grade(*by_id.at(id), 0, "\\boxed{" + answer + "}", "", config).is_correct();
  };
  EXPECT_TRUE(correct("test/geometry/826.json", "1\\frac{4}{5}"));
  EXPECT_TRUE(correct("test/geometry/826.json", "\\frac{9}{5}"));
  EXPECT_TRUE(correct("test/geometry/826.json", "1.8"));
  EXPECT_FALSE(correct("test/geometry/826.json", "\\frac{4}{5}"));
  EXPECT_TRUE(correct("test/algebra/2470.json", "137\\frac12"));
  EXPECT_TRUE(correct("test/algebra/2470.json", "137.5"));
  EXPECT_TRUE(correct("test/algebra/2470.json", "\\frac{275}{2}"));
  EXPECT_FALSE(correct("test/algebra/2470.json", "68.5"));
}

TEST(Tasks, AnAnswerRestatingTheQuestionIsWrongOnTheRealData) {
  // "Evaluate $(1+2i)6-3i$." (MATH-500 test/algebra/1098): the question's expression equals the reference
  // 6+9i by value. Written back as the answer it is no answer, in a box or found by the fallback.
  auto task = loaded("math500");
  GradingConfig config;
  config.math.think_policy = grading::ThinkPolicy::none;
  const Problem* problem = nullptr;
  for (const auto& p : task->problems())
    if (p.id == "test/algebra/1098.json") problem = &p;
  ASSERT_NE(problem, nullptr);
  ASSERT_EQ(problem->reference, "6+9i");
  auto grade = [&](const std::string& completion) { return task->grade(*problem, 0, completion, "", config); };
  EXPECT_TRUE(grade("\\boxed{6+9i}").is_correct());
  EXPECT_TRUE(grade("\\boxed{9i + 6}").is_correct());
  auto restated = grade("\\boxed{(1+2i) 6 - 3i}");
  EXPECT_EQ(restated.kind, grading::VerdictKind::wrong);
  EXPECT_NE(restated.reason.find("restates"), std::string::npos) << restated.reason;
  config.math.fallback_extraction = true;
  EXPECT_FALSE(grade("We evaluate $(1+2i)6-3i$.").is_correct());
  EXPECT_TRUE(grade("We evaluate $(1+2i)6-3i = 6 + 12i - 3i = 6+9i$.").is_correct());
}

TEST(Tasks, ConsensusGroupsNamedValuesInTheQuestionsOrder) {
  // "Enter the ordered pair $(m,b)$" (MATH-500 test/precalculus/541): named values in another order are the
  // same answer as the pair, for the vote as for the verdict; the swapped values are another answer.
  auto task = loaded("math500");
  GradingConfig config;
  config.math.think_policy = grading::ThinkPolicy::none;
  const Problem* problem = nullptr;
  for (const auto& p : task->problems())
    if (p.id == "test/precalculus/541.json") problem = &p;
  ASSERT_NE(problem, nullptr);
  auto grade = [&](const std::string& completion) { return task->grade(*problem, 0, completion, "", config); };
  auto pair = grade("\\boxed{\\left(\\frac{3}{2}, -13\\right)}");
  auto named = grade("\\boxed{b = -13, m = \\frac32}");
  auto swapped = grade("\\boxed{b = \\frac32, m = -13}");
  ASSERT_TRUE(pair.is_correct());
  ASSERT_TRUE(named.is_correct()) << named.reason;
  ASSERT_FALSE(swapped.is_correct());
  EXPECT_TRUE(task->same_answer(*problem, pair, named, config));
  EXPECT_TRUE(task->same_answer(*problem, named, pair, config));
  EXPECT_FALSE(task->same_answer(*problem, named, swapped, config));
  EXPECT_FALSE(task->same_answer(*problem, pair, swapped, config));
}

TEST(Tasks, Gsm8kVerdictsEqualOpenAIsOnItsGradedSolutions) {
  // OpenAI's grade-school-math repository grades four GPT-3 solutions per GSM8K test problem (1,319 x 4),
  // each closing with an "A: 18" line. r1lab must reach the same verdict on every one, in both extraction
  // modes: the answer line is read in the default mode, the fallback finds the same number.
  auto task = loaded("gsm8k");
  std::ifstream in(std::string(R1LAB_SHARED_DATA) + "/model_outputs/openai_gsm8k/example_model_solutions.jsonl");
  ASSERT_TRUE(in) << "model_outputs/openai_gsm8k/example_model_solutions.jsonl is missing from the data directory";
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), task->problems().size());
  for (bool fallback : {false, true}) {
    GradingConfig config;
    config.math.think_policy = grading::ThinkPolicy::none;
    config.math.fallback_extraction = fallback;
    std::size_t same = 0, credited = 0, graded = 0;
    for (std::size_t row = 0; row < rows.size(); ++row) {
      const Problem& problem = task->problems()[row];
      ASSERT_EQ(rows[row]["question"].get<std::string>().substr(0, 40), problem.statement.substr(0, 40)) << "row " << row;
      for (const char* model : {"6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"}) {
        const auto& solution = rows[row][model];
        bool ours = task->grade(problem, 0, solution["solution"].get<std::string>(), "", config).is_correct();
        bool theirs = solution["is_correct"].get<bool>();
        same += ours == theirs;
        credited += ours;
        ++graded;
        EXPECT_EQ(ours, theirs) << "row " << row << ", " << model << (fallback ? ", fallback" : "");
      }
    }
    EXPECT_EQ(graded, 5276u);
    EXPECT_EQ(same, graded);
    EXPECT_EQ(credited, 2001u);  // OpenAI's own count of correct solutions
  }
}

TEST(Tasks, TrainingSetsAreTasks) {
  // Counts, ids and checksums are in CountsIdsAndChecksums; here, what each reference is read as.
  EXPECT_EQ(loaded("gsm8k_train")->problems()[0].reference, "72");
  EXPECT_EQ(loaded("gsm8k")->problems()[0].reference, "18");
  EXPECT_EQ(loaded("math_train")->problems()[0].reference, "0");
  EXPECT_EQ(loaded("countdown_train")->problems()[0].reference, "98");
  GradingConfig config;
  config.math.think_policy = grading::ThinkPolicy::none;
  // GSM8K's reference is what follows "####", graded by the math grader.
  auto gsm8k = loaded("gsm8k_train");
  EXPECT_TRUE(gsm8k->grade(gsm8k->problems()[0], 0, "So she sold \\boxed{72} clips.", "", config).is_correct());
  // Countdown's first training problem: 44, 19, 35 to 98; the question asks for <answer> tags.
  auto countdown = loaded("countdown_train");
  const Problem& first = countdown->problems()[0];
  EXPECT_NE(first.statement.find("[44, 19, 35]"), std::string::npos) << first.statement;
  EXPECT_NE(first.statement.find("<answer>"), std::string::npos);
  EXPECT_TRUE(countdown->grade(first, 0, "<answer>44 + 19 + 35</answer>", "", config).is_correct());
  EXPECT_FALSE(countdown->grade(first, 0, "<answer>44 + 19 + 34</answer>", "", config).is_correct());
  config.prompt_template = PromptTemplate::r1_zero;
  EXPECT_NE(countdown->prompt(first, 0, config).text.find("User: Using the numbers"), std::string::npos);
}

TEST(Tasks, AdditionsAreGeneratedTheSameEverywhereAndKeepTheHeldOutSetOut) {
  auto train = loaded("addition_train"), held_out = loaded("addition");
  std::set<std::string> held;
  for (const auto& p : held_out->problems()) held.insert(p.id);
  for (const auto& p : train->problems()) ASSERT_FALSE(held.count(p.id)) << p.id << " is in both splits";
  const Problem& first = train->problems()[0];
  EXPECT_EQ(first.statement, "What is 70042 + 97149?");
  EXPECT_EQ(first.reference, "167191");
  GradingConfig config;
  config.prompt_template = PromptTemplate::r1_zero;
  EXPECT_NE(train->prompt(first, 0, config).text.find("User: What is 70042 + 97149?. Assistant:"), std::string::npos);
  // Graded as an integer answer, in the R1-Zero answer tags as the GRPO reward hands it over.
  EXPECT_TRUE(train->grade(first, 0, "</think><answer>167191</answer>", "", config).is_correct());
  EXPECT_FALSE(train->grade(first, 0, "</think><answer>167190</answer>", "", config).is_correct());
  EXPECT_FALSE(train->grade(first, 0, "</think><answer></answer>", "", config).is_correct());
  // The question copied into the answer equals the sum by value; it must earn no reward.
  EXPECT_FALSE(train->grade(first, 0, "</think><answer>70042 + 97149</answer>", "", config).is_correct());
}

TEST(Tasks, MathPromptFollowsThePaper) {
  auto task = loaded("math500");
  GradingConfig config;
  auto prompt = task->prompt(task->problems()[0], 0, config).text;
  EXPECT_EQ(prompt, task->problems()[0].statement + "\nPlease reason step by step, and put your final answer within \\boxed{}.");
  config.prompt_template = PromptTemplate::r1_zero;
  auto zero = task->prompt(task->problems()[0], 0, config).text;
  EXPECT_NE(zero.find("<think> reasoning process here </think> <answer> answer here </answer>"), std::string::npos);
}

TEST(Tasks, GpqaShufflesPerSampleAndGradesThroughThePermutation) {
  auto task = loaded("gpqa_diamond");
  GradingConfig config;
  config.choice.think_policy = grading::ThinkPolicy::none;
  const auto& problem = task->problems()[0];
  auto prompt = task->prompt(problem, 3, config);
  ASSERT_TRUE(prompt.permutation);
  int shown_correct = 0;
  for (int s = 0; s < 4; ++s) if ((*prompt.permutation)[s] == 0) shown_correct = s;
  std::string letter(1, static_cast<char>('A' + shown_correct));
  EXPECT_NE(prompt.text.find(letter + ") " + problem.choices[0]), std::string::npos);
  EXPECT_TRUE(task->grade(problem, 3, "Answer: " + letter, prompt.text, config).is_correct());
  EXPECT_FALSE(task->grade(problem, 3, "Answer: " + std::string(1, static_cast<char>('A' + (shown_correct + 1) % 4)),
                           prompt.text, config).is_correct());
  // Domains for the breakdown.
  std::set<std::string> domains;
  for (const auto& p : task->problems()) domains.insert(p.labels.at("domain"));
  EXPECT_EQ(domains, (std::set<std::string>{"Biology", "Chemistry", "Physics"}));
}

TEST(Tasks, GpqaReadsALetterThatNamesACompoundAsNoAnswer) {
  // "Compound A (C3H6) undergoes bromination ... to form compound B": in this question a bare letter in prose
  // names a compound, so "... compound B, which is B" commits to no option; in a question without such names
  // it does. An Answer: line is read in both.
  auto task = loaded("gpqa_diamond");
  GradingConfig config;
  config.choice.think_policy = grading::ThinkPolicy::none;
  const Problem* naming = nullptr;
  const Problem* plain = nullptr;
  for (const auto& p : task->problems()) {
    if (p.statement.rfind("Compound A (C3H6)", 0) == 0) naming = &p;
    if (p.statement.find("Compound") == std::string::npos && p.statement.find(" A ") == std::string::npos &&
        p.statement.find(" B") == std::string::npos && !plain)
      plain = &p;
  }
  ASSERT_NE(naming, nullptr);
  ASSERT_NE(plain, nullptr);
  std::string prose = "Bromination gives the dibromide, which is B.";
  EXPECT_EQ(task->grade(*naming, 0, prose, "", config).kind, grading::VerdictKind::no_answer);
  EXPECT_NE(task->grade(*plain, 0, prose, "", config).kind, grading::VerdictKind::no_answer);
  EXPECT_NE(task->grade(*naming, 0, prose + "\n\nAnswer: B", "", config).kind, grading::VerdictKind::no_answer);
}

TEST(Tasks, MissingDataNamesThePathAndTheFix) {
  auto task = make_task("math500");
  try {
    task->load(DataDirectory("/nonexistent-dir", "test"));
    FAIL() << "expected DataError";
  } catch (const DataError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("/nonexistent-dir/math500/test.jsonl"), std::string::npos) << message;
    EXPECT_NE(message.find("prm800k"), std::string::npos) << message;
  }
  EXPECT_THROW(make_task("aime99"), std::invalid_argument);
}

}  // namespace
}  // namespace r1lab::tasks
