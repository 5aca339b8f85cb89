// The r1lab binary end to end, on real data: score, grade, prompts, report and its gate, bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct Run {
  int exit_code;
  std::string output;
};

Run run(const std::string& arguments) {
  std::string command = std::string(R1LAB_BINARY) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer{};
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) output.append(buffer.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("r1lab_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string data() const { return std::string(" --data-dir ") + R1LAB_SHARED_DATA; }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  nlohmann::json results(const std::string& sub) {
    return nlohmann::json::parse(std::ifstream(dir_ / sub / "results.json"));
  }
  fs::path dir_;
};

TEST_F(Cli, ScoresASkyThoughtFileLikeItsPublishedAccuracy) {
  std::string samples = std::string(R1LAB_SHARED_DATA) + "/model_outputs/skythought/Qwen2.5-14B-Instruct/math500.jsonl";
  auto r = run("score --task math500 --samples " + samples + " --out " + (dir_ / "out").string() + " --fallback-extraction" + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto res = results("out");
  EXPECT_EQ(res["model"], "Qwen2.5-14B-Instruct");
  EXPECT_EQ(res["samples_file"]["format"], "skythought");
  EXPECT_EQ(res["grading"]["think_policy"], "none");   // SkyThought models do not think
  EXPECT_EQ(res["task"]["dataset"]["matches_known"], true);
  EXPECT_EQ(res["n"], 1);
  // SkyThought's own harness reports 80.4; per-sample differences are audited in docs/grading-audit.md.
  EXPECT_NEAR(res["metrics"][0]["value"].get<double>(), 0.804, 0.02);
  EXPECT_EQ(res["breakdowns"]["level"].size(), 5u);
  EXPECT_EQ(res["breakdowns"]["subject"].size(), 7u);
  std::ifstream verdicts(dir_ / "out" / "verdicts.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(verdicts, line)) ++lines;
  EXPECT_EQ(lines, 500);
}

TEST_F(Cli, ComputesPassAtKAndConsensusOverSamples) {
  // Two problems of aime24, n = 4: problem 1 right 3 times (with equivalent spellings), problem 2 never.
  std::string text;
  auto add = [&](const std::string& id, int s, const std::string& answer) {
    text += nlohmann::json{{"id", id}, {"sample", s}, {"completion", "<think>t</think> \\boxed{" + answer + "}"}}.dump() + "\n";
  };
  add("2024-I-1", 0, "204"); add("2024-I-1", 1, "204.0"); add("2024-I-1", 2, "7"); add("2024-I-1", 3, "0204");
  add("2024-I-2", 0, "1"); add("2024-I-2", 1, "2"); add("2024-I-2", 2, "2"); add("2024-I-2", 3, "3");
  auto samples = write("s.jsonl", text);
  auto r = run("score --task aime24 --allow-partial --pass-k 2 --cons-k 2 --samples " + samples + " --out " + (dir_ / "o").string() + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto res = results("o");
  EXPECT_EQ(res["partial"], true);  // 28 problems have no samples
  EXPECT_EQ(res["problems"], 2);
  std::map<std::string, double> m;
  for (const auto& metric : res["metrics"]) m[metric["name"]] = metric["value"];
  EXPECT_DOUBLE_EQ(m["pass@1"], (0.75 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(m["pass@2"], (1.0 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(m["cons@4"], (1.0 + 0.0) / 2);  // 204, 204.0, 0204 are one class
  // cons@2 over the 6 pairs of problem 1 (classes 204, 204, 7, 204): only the pair (7, 204) votes 7,
  // since a tie goes to the earlier sample.
  EXPECT_DOUBLE_EQ(m["cons@2"], (5.0 / 6.0 + 0.0) / 2);
  // Curves at k = 1, 2, 4 for plots.
  std::vector<double> pass_curve, cons_curve;
  for (const auto& point : res["curves"]["pass@k"]) pass_curve.push_back(point["value"]);
  for (const auto& point : res["curves"]["cons@k"]) cons_curve.push_back(point["value"]);
  EXPECT_EQ(pass_curve, (std::vector<double>{0.375, 0.5, 0.5}));
  ASSERT_EQ(cons_curve.size(), 3u);
  EXPECT_DOUBLE_EQ(cons_curve[0], 0.375);
  EXPECT_DOUBLE_EQ(cons_curve[1], 5.0 / 12.0);
  EXPECT_DOUBLE_EQ(cons_curve[2], 0.5);
  EXPECT_EQ(res["curves"]["pass@k"][2]["k"], 4);
  r = run("score --task aime24 --allow-partial --cons-k 5 --samples " + samples + " --out " + (dir_ / "o5").string() + data());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "o5" / "results.json"));
}

TEST_F(Cli, ResponseLengthsForCorrectAndOtherAnswersInTokensOrCharacters) {
  // aime24 problem 1 (answer 204), n = 4: two right (100 and 200 tokens), one wrong (300), one cut at
  // the token limit before any answer (400).
  auto line = [](int s, const std::string& completion, std::int64_t tokens, const std::string& finish) {
    return nlohmann::json{{"id", "2024-I-1"}, {"sample", s}, {"completion", completion}, {"completion_tokens", tokens},
                          {"finish_reason", finish}}.dump() + "\n";
  };
  auto samples = write("t.jsonl", line(0, "<think>a</think> \\boxed{204}", 100, "stop") + line(1, "<think>b</think> \\boxed{204}", 200, "stop") +
                                      line(2, "<think>c</think> \\boxed{7}", 300, "stop") + line(3, "<think>ddd", 400, "length"));
  auto r = run("score --task aime24 --allow-partial --samples " + samples + " --out " + (dir_ / "t").string() + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lengths = results("t")["response_lengths"];
  EXPECT_EQ(lengths["unit"], "tokens");
  EXPECT_EQ(lengths["all"]["mean"], 250.0);
  EXPECT_EQ(lengths["all"]["median"], 250.0);
  EXPECT_EQ(lengths["all"]["p90"], 370.0);
  EXPECT_EQ(lengths["all"]["max"], 400.0);
  EXPECT_EQ(lengths["correct"]["mean"], 150.0);
  EXPECT_EQ(lengths["other"]["mean"], 350.0);
  EXPECT_EQ(lengths["truncation_rate"], 0.25);
  EXPECT_EQ(lengths["no_answer_rate"], 0.25);
  EXPECT_NE(r.output.find("length (tokens): mean 250, median 250, p90 370, max 400; mean correct 150, other 350; truncated 25.0%; no answer 25.0%"),
            std::string::npos) << r.output;
  // 20 bins of 20 tokens reach 400, past the 99th percentile (397); 400 itself is in the last bin.
  EXPECT_EQ(lengths["histogram"]["edges"].size(), 21u);
  EXPECT_EQ(lengths["histogram"]["edges"][1], 20.0);
  EXPECT_EQ(lengths["histogram"]["other"][19], 1);
  EXPECT_EQ(lengths["histogram"]["beyond_last_edge"], 0);
  // verdicts.jsonl says what a reader of failures needs; `r1lab show` prints them with the texts.
  std::ifstream verdicts(dir_ / "t" / "verdicts.jsonl");
  std::string last;
  for (std::string line; std::getline(verdicts, line);) last = line;
  auto cut = nlohmann::json::parse(last);
  EXPECT_EQ(cut["reference"], "204");
  EXPECT_EQ(cut["finish_reason"], "length");
  EXPECT_EQ(cut["tokens"], 400);
  auto shown = run("show " + (dir_ / "t").string() + " --wrong" + data());
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("=== aime24 2024-I-1 sample 2: wrong (extracted \"7\", reference \"204\", 300 tokens, finish stop"),
            std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("<think>c</think> \\boxed{7}"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("sample 3: unfinished"), std::string::npos) << shown.output;
  EXPECT_EQ(shown.output.find("sample 0:"), std::string::npos) << "--wrong shows only the samples that are not correct";
  shown = run("show " + (dir_ / "t").string() + " --id 2024-I-1 --limit 1 --max-chars 8" + data());
  EXPECT_NE(shown.output.find("sample 0: correct"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("[... 20 bytes before ...]\nxed{204}"), std::string::npos) << shown.output;
  EXPECT_EQ(shown.output.find("sample 1:"), std::string::npos) << shown.output;
  // The report shows the mean length beside the scores.
  r = run("report " + (dir_ / "t").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("aime24_length_tokens"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("250.0"), std::string::npos) << r.output;

  // Without token counts the lengths are characters (UTF-8 aware), and truncation is unknown.
  auto plain = write("c.jsonl", nlohmann::json{{"id", "2024-I-1"}, {"sample", 0}, {"completion", "\\boxed{204} é"}}.dump() + "\n" +
                                    nlohmann::json{{"id", "2024-I-1"}, {"sample", 1}, {"completion", "\\boxed{7}"}}.dump() + "\n");
  r = run("score --task aime24 --think none --allow-partial --samples " + plain + " --out " + (dir_ / "c").string() + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  lengths = results("c")["response_lengths"];
  EXPECT_EQ(lengths["unit"], "characters");
  EXPECT_EQ(lengths["correct"]["mean"], 13.0);   // \boxed{204} é
  EXPECT_EQ(lengths["other"]["mean"], 9.0);      // \boxed{7}
  EXPECT_TRUE(lengths["truncation_rate"].is_null());
}

TEST_F(Cli, AModelThatDoesNotThinkGetsAHint) {
  // Every sample answers without think tags, graded under the default --think required: all unfinished.
  std::string text;
  for (const char* id : {"2024-I-1", "2024-I-2", "2024-I-3"})
    text += nlohmann::json{{"id", id}, {"completion", "So the answer is \\boxed{204}."}}.dump() + "\n";
  auto samples = write("s.jsonl", text);
  auto r = run("score --task aime24 --allow-partial --samples " + samples + " --out " + (dir_ / "o").string() + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("hint: 3 of 3 samples are unfinished and none shows a <think> tag"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--think none"), std::string::npos);
  EXPECT_EQ(results("o")["hints"].size(), 1u);
  // A model that thinks but ran out of tokens gets no such hint.
  text.clear();
  for (const char* id : {"2024-I-1", "2024-I-2", "2024-I-3"})
    text += nlohmann::json{{"id", id}, {"completion", "<think> still going"}}.dump() + "\n";
  samples = write("t.jsonl", text);
  r = run("score --task aime24 --allow-partial --samples " + samples + " --out " + (dir_ / "t").string() + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("hint:"), std::string::npos) << r.output;
  EXPECT_FALSE(results("t").contains("hints"));
}

TEST_F(Cli, RefusesIncompleteSamplesUnlessAllowed) {
  auto samples = write("s.jsonl", "{\"id\": \"2024-I-1\", \"completion\": \"\\\\boxed{204}\"}\n");
  auto r = run("score --task aime24 --samples " + samples + " --out " + (dir_ / "o").string() + data());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--allow-partial"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "o" / "results.json"));
}

TEST_F(Cli, MalformedLineNamesFileAndLineAndWritesNothing) {
  auto samples = write("bad.jsonl", "{\"id\": \"2024-I-1\", \"completion\": \"x\"}\n{not json\n");
  auto r = run("score --task aime24 --samples " + samples + " --out " + (dir_ / "o").string() + data());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.jsonl:2"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "o"));
}

TEST_F(Cli, UnknownIdAndDuplicateSampleAreErrors) {
  auto unknown = write("u.jsonl", "{\"id\": \"2024-I-99\", \"completion\": \"x\"}\n");
  auto r = run("score --task aime24 --samples " + unknown + " --out " + (dir_ / "o").string() + data());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown problem id '2024-I-99'"), std::string::npos) << r.output;
  auto duplicate = write("d.jsonl", "{\"id\": \"2024-I-1\", \"sample\": 0, \"completion\": \"x\"}\n"
                                    "{\"id\": \"2024-I-1\", \"sample\": 0, \"completion\": \"y\"}\n");
  r = run("score --task aime24 --samples " + duplicate + " --out " + (dir_ / "o").string() + data());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("d.jsonl:2: duplicate sample 0"), std::string::npos) << r.output;
}

TEST_F(Cli, FieldNamesCanBeMapped) {
  std::string text;
  for (int p = 1; p <= 15; ++p)
    for (const char* part : {"I", "II"})
      text += nlohmann::json{{"qid", std::string("2024-") + part + "-" + std::to_string(p)}, {"text", ""}}.dump() + "\n";
  auto samples = write("m.jsonl", text);
  auto r = run("score --task aime24 --id-field qid --completion-field text --samples " + samples + " --out " +
               (dir_ / "o").string() + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(results("o")["verdict_counts"]["unfinished"], 30);  // empty completions are graded, not errors
}

TEST_F(Cli, GradePrintsOneLinePerCase) {
  auto cases = write("c.jsonl", "{\"reference\": \"\\\\frac12\", \"completion\": \"\\\\boxed{0.5}\"}\n"
                                "{\"reference\": \"3\", \"completion\": \"\\\\boxed{5^{5^{5^5}}}\"}\n");
  auto r = run("grade --kind math --think none --cases " + cases);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::istringstream lines(r.output);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(nlohmann::json::parse(first)["correct"], true);
  EXPECT_EQ(nlohmann::json::parse(second)["verdict"], "timeout");
}

TEST_F(Cli, GradeDefaultsAreScoresDefaults) {
  // score requires </think> by default; grade used to default to auto and credit this unfinished sample.
  auto cases = write("c.jsonl", "{\"reference\": \"5\", \"completion\": \"so \\\\boxed{5}\"}\n");
  auto r = run("grade --kind math --cases " + cases);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(nlohmann::json::parse(r.output)["verdict"], "unfinished") << r.output;
  r = run("grade --kind math --think auto --cases " + cases);
  EXPECT_EQ(nlohmann::json::parse(r.output)["verdict"], "correct") << r.output;
}

TEST_F(Cli, PromptsForGpqaDifferPerSample) {
  auto r = run("prompts --task gpqa_diamond -n 2" + data());
  ASSERT_EQ(r.exit_code, 0);
  std::istringstream lines(r.output);
  std::string a, b;
  std::getline(lines, a);
  std::getline(lines, b);
  auto ja = nlohmann::json::parse(a), jb = nlohmann::json::parse(b);
  EXPECT_EQ(ja["id"], jb["id"]);
  EXPECT_EQ(ja["sample"], 0);
  EXPECT_EQ(jb["sample"], 1);
  EXPECT_EQ(ja["permutation"].size(), 4u);
}

TEST_F(Cli, ReportGateExitsOneOnlyOnARealRegression) {
  auto write_result = [&](const std::string& name, double value, double se) {
    fs::create_directories(dir_ / name);
    std::ofstream(dir_ / name / "results.json")
        << nlohmann::json{{"model", name}, {"task", {{"name", "aime24"}, {"version", 1}}},
                          {"metrics", {{{"name", "pass@1"}, {"value", value}, {"stderr", se}, {"label", "pass@1"}}}}}.dump();
    return (dir_ / name).string();
  };
  auto base = write_result("base", 0.70, 0.01), worse = write_result("worse", 0.55, 0.01), noisy = write_result("noisy", 0.62, 0.08);
  EXPECT_EQ(run("report " + worse + " --baseline " + base + " --max-drop 5").exit_code, 1);
  EXPECT_EQ(run("report " + noisy + " --baseline " + base + " --max-drop 5").exit_code, 0);
  auto r = run("report " + base + " --paper table6 --format csv");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("DeepSeek-R1-Zero-Qwen-32B (paper)"), std::string::npos);
  EXPECT_EQ(run("report " + (dir_ / "nothing").string()).exit_code, 2);
  // Nothing in common between baseline and current is an error, not a pass.
  fs::create_directories(dir_ / "other");
  std::ofstream(dir_ / "other" / "results.json")
      << nlohmann::json{{"model", "other"}, {"task", {{"name", "math500"}, {"version", 1}}},
                        {"metrics", {{{"name", "pass@1"}, {"value", 0.5}, {"stderr", 0.01}, {"label", "pass@1"}}}}}.dump();
  r = run("report " + (dir_ / "other").string() + " --baseline " + base + " --max-drop 5");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("nothing to gate"), std::string::npos) << r.output;
  // A current run that lacks the baseline's task fails unless --allow-missing.
  const std::string both = " --baseline " + base + "," + (dir_ / "other").string() + " --max-drop 50";
  r = run("report " + worse + both);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("missing: no current run of this task"), std::string::npos) << r.output;
  EXPECT_EQ(run("report " + worse + both + " --allow-missing").exit_code, 0);
}

// The gate on real outputs: SkyThought's Qwen2.5-14B-Instruct MATH-500 file, scored as it is and with
// answers changed, one sample per problem.
TEST_F(Cli, ReportGateOnRealOutputsPairsProblems) {
  const std::string shared = R1LAB_SHARED_DATA;
  const std::string original = shared + "/model_outputs/skythought/Qwen2.5-14B-Instruct/math500.jsonl";
  auto score = [&](const std::string& samples, const std::string& out) {
    auto r = run("score --task math500 --samples " + samples + " --out " + (dir_ / out).string() + data());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return (dir_ / out).string();
  };
  std::string base = score(original, "base");
  std::map<std::string, bool> correct;
  {
    std::ifstream verdicts(dir_ / "base" / "verdicts.jsonl");
    for (std::string line; std::getline(verdicts, line);) {
      auto v = nlohmann::json::parse(line);
      correct[v["id"]] = v["correct"];
    }
  }
  std::map<std::string, std::pair<std::string, std::string>> problem_by_text;   // question -> (id, answer)
  {
    std::ifstream problems(shared + "/math500/test.jsonl");
    for (std::string line; std::getline(problems, line);) {
      auto p = nlohmann::json::parse(line);
      problem_by_text[p["problem"]] = {p["unique_id"], p["answer"]};
    }
  }
  // Rewrites the file: `to_wrong` right answers become wrong, `to_right` wrong ones become the reference.
  auto changed = [&](const std::string& name, int to_wrong, int to_right) {
    std::ifstream in(original);
    std::ofstream out(dir_ / name);
    for (std::string line; std::getline(in, line);) {
      auto row = nlohmann::json::parse(line);
      const auto& [id, answer] = problem_by_text.at(row["question"]);
      if (correct.at(id) && to_wrong > 0) {
        row["code"] = {"The answer is \\boxed{-987654321}."};
        --to_wrong;
      } else if (!correct.at(id) && to_right > 0) {
        row["code"] = {"The answer is \\boxed{" + answer + "}."};
        --to_right;
      }
      out << row.dump() << "\n";
    }
    return (dir_ / name).string();
  };
  std::string worse = score(changed("worse.jsonl", 15, 0), "worse");
  std::string flipped = score(changed("flipped.jsonl", 2, 2), "flipped");
  EXPECT_NEAR(results("base")["metrics"][0]["value"].get<double>() - results("worse")["metrics"][0]["value"].get<double>(), 0.03, 1e-9);
  EXPECT_EQ(results("base")["metrics"][0]["value"], results("flipped")["metrics"][0]["value"]);

  // 15 problems made wrong (-3.0 points): the paired band is about 1.5 points, so --max-drop 1 fails.
  auto r = run("report " + worse + " --baseline " + base + " --max-drop 1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("paired, 500 problems"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| 3.00 |"), std::string::npos) << r.output;
  // Two flipped each way passes.
  EXPECT_EQ(run("report " + flipped + " --baseline " + base + " --max-drop 1").exit_code, 0);
  // Of two current runs, one regressed: fails whichever comes last; --baseline takes one path only.
  EXPECT_EQ(run("report " + flipped + " " + worse + " --baseline " + base + " --max-drop 1").exit_code, 1);
  EXPECT_EQ(run("report --baseline " + base + " " + worse + " " + flipped + " --max-drop 1").exit_code, 1);
  // Two runs of one model are two rows, labelled by folder or --label.
  r = run("report " + base + " " + worse);
  EXPECT_NE(r.output.find(" (base) |"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(" (worse) |"), std::string::npos) << r.output;
  r = run("report " + base + " " + worse + " --label before --label after");
  EXPECT_NE(r.output.find("| after |"), std::string::npos) << r.output;
  EXPECT_EQ(run("report " + base + " " + worse + " --label before").exit_code, 2);
  // An eval run folder (one folder per task) is one row with all its tasks.
  fs::create_directories(dir_ / "evalrun" / "math500");
  fs::copy_file(dir_ / "base" / "results.json", dir_ / "evalrun" / "math500" / "results.json");
  r = run("report " + (dir_ / "evalrun").string() + " --baseline " + base + " --max-drop 1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(" (evalrun) |"), std::string::npos) << r.output;
  // The verdict is in the chosen format.
  r = run("report " + worse + " --baseline " + base + " --max-drop 1 --format csv");
  EXPECT_EQ(r.output.find("| "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("# gate: FAILED"), std::string::npos) << r.output;
}

TEST_F(Cli, UsageErrorsExitTwoAndOutOfRangeValuesAreRefused) {
  EXPECT_EQ(run("score --no-such-flag").exit_code, 2);
  EXPECT_EQ(run("report").exit_code, 2);                     // a required argument missing
  EXPECT_EQ(run("--help").exit_code, 0);
  EXPECT_EQ(run("eval --help").exit_code, 0);
  const std::string eval = "eval --task aime24 --base-url http://127.0.0.1:9/v1 --model m --out " + (dir_ / "run").string();
  for (const char* bad : {" -n 0", " --limit 0", " --temperature -0.5", " --top-p 0", " --max-tokens 0", " --max-new-tokens 0",
                          " --max-in-flight 0"}) {
    auto r = run(eval + bad);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_FALSE(fs::exists(dir_ / "run")) << bad;           // refused before anything was written
  }
  EXPECT_EQ(run("generate --model m --temperature -1").exit_code, 2);
  // One name for the length limit in every command (the old one stays an alias).
  for (const char* command : {"eval --help", "generate --help", "train grpo --help"})
    EXPECT_NE(run(command).output.find("--max-new-tokens"), std::string::npos) << command;
  // --seed is the sampling seed; the GPQA shuffle has its own name, and --help shows defaults.
  const std::string help = run("eval --help").output;
  EXPECT_NE(help.find("--seed"), std::string::npos);
  EXPECT_NE(help.find("--choice-seed"), std::string::npos);
  EXPECT_NE(help.find("NONNEGATIVE=0.6"), std::string::npos) << "the default temperature in --help:\n" << help;
  EXPECT_EQ(run("score --seed 3 --task aime24 --samples x --out y").exit_code, 2);
  // A k the run cannot reach is refused before anything is generated.
  for (const char* bad : {" --pass-k 65", " --cons-k 0"}) {   // aime24: n = 64
    auto r = run(eval + bad + data());
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("each k must be between 1 and n"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(dir_ / "run")) << bad;
  }
}

TEST_F(Cli, DataAndTasksCommands) {
  auto r = run("data" + data());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("math500"), std::string::npos);
  EXPECT_NE(r.output.find("ok (sha256 matches)"), std::string::npos);
  r = run("data --data-dir " + dir_.string());
  EXPECT_NE(r.output.find("MISSING"), std::string::npos);
  EXPECT_EQ(r.exit_code, 1);   // a script can check the data before a long run
  r = run("tasks");
  EXPECT_NE(r.output.find("gpqa_diamond"), std::string::npos);
}

}  // namespace

namespace r1lab::harness {
namespace {

TEST_F(Cli, RunCodePrintsTheResultAndTheVerdict) {
  std::string program = write("double.py", "print(int(input()) * 2)\n");
  std::string input = write("in.txt", "21\n");
  std::string expected = write("out.txt", "42.0\n");
  auto r = run("run-code --lang python " + program + " --stdin " + input + " --expected " + expected + " --compare lcb");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto out = nlohmann::json::parse(r.output);
  EXPECT_EQ(out["status"], "ok");   // 42 == 42.0 as Decimals
  EXPECT_EQ(out["run"]["stdout"], "42\n");
  auto wrong = run("run-code " + program + " --stdin " + input + " --expected " + expected + " --compare tokens");
  EXPECT_EQ(wrong.exit_code, 1) << "a verdict other than ok exits 1";
  auto tokens = nlohmann::json::parse(wrong.output);
  EXPECT_EQ(tokens["status"], "wrong_answer");
  // A testlib-style checker (exit 0 accepted, 1 wrong answer): accepts any even number here.
  std::string checker = write("checker.py", "#!/usr/bin/python3\nimport sys\nvalue = int(open(sys.argv[2]).read())\n"
                                            "sys.exit(0 if value % 2 == 0 else 1)\n");
  fs::permissions(checker, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                               fs::perms::others_exec);
  auto checked = nlohmann::json::parse(run("run-code " + program + " --stdin " + input + " --expected " + expected +
                                           " --compare checker:" + checker).output);
  EXPECT_EQ(checked["status"], "ok") << checked.dump();
  std::string odd = write("odd.py", "print(43)\n");
  auto rejected = nlohmann::json::parse(run("run-code " + odd + " --stdin " + input + " --expected " + expected +
                                            " --compare checker:" + checker).output);
  EXPECT_EQ(rejected["status"], "wrong_answer") << rejected.dump();
  auto bad = run("run-code " + program + " --compare fuzzy");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--compare must be"), std::string::npos) << bad.output;
}

TEST_F(Cli, ScoresHumanEvalCompletionsEndToEnd) {
  // Two problems, two samples each: one right, one wrong; results say which execution statuses occurred.
  std::string samples = write("he.jsonl",
      "{\"id\": \"HumanEval/2\", \"sample\": 0, \"completion\": \"</think>```python\\ndef truncate_number(number: float) -> float:\\n    return number % 1.0\\n```\"}\n"
      "{\"id\": \"HumanEval/2\", \"sample\": 1, \"completion\": \"</think>```python\\ndef truncate_number(number: float) -> float:\\n    return 0.5\\n```\"}\n"
      "{\"id\": \"HumanEval/4\", \"sample\": 0, \"completion\": \"still thinking\"}\n"
      "{\"id\": \"HumanEval/4\", \"sample\": 1, \"completion\": \"</think>no code\"}\n");
  auto r = run("score --task humaneval --allow-partial --samples " + samples + " --out " + (dir_ / "out").string() + data());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto res = results("out");
  EXPECT_DOUBLE_EQ(res["metrics"][0]["value"].get<double>(), 0.25);
  EXPECT_EQ(res["verdict_counts"]["unfinished"], 1);
  EXPECT_EQ(res["verdict_counts"]["no_answer"], 1);
  EXPECT_EQ(res["task_results"]["execution_status_counts"]["runtime_error"], 1);   // the failed assert
  EXPECT_EQ(res["task_results"]["sandbox"], "bubblewrap");
}

}  // namespace
}  // namespace r1lab::harness

namespace r1lab::harness {
namespace {

TEST_F(Cli, TokenizePrintsIdsDecodesAndRendersChats) {
  const std::string tokenizer = std::string(" --tokenizer ") + R1LAB_SHARED_DATA + "/tokenizers/qwen3_tokenizer_npm";
  auto r = run("tokenize" + tokenizer + " < " + write("text.txt", "Hello world<|im_end|>"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto plain = nlohmann::json::parse(r.output).get<std::vector<int>>();
  EXPECT_EQ(std::vector<int>(plain.begin(), plain.begin() + 2), (std::vector<int>{9707, 1879}));
  EXPECT_GT(plain.size(), 3u);   // <|im_end|> is text without --special
  r = run("tokenize --special" + tokenizer + " < " + write("text.txt", "Hello world<|im_end|>"));
  EXPECT_EQ(nlohmann::json::parse(r.output), nlohmann::json::parse("[9707, 1879, 151645]"));
  r = run("tokenize --decode --special" + tokenizer + " < " + write("ids.json", "[9707, 1879, 151645]"));
  EXPECT_EQ(r.output, "Hello world<|im_end|>");
  r = run("tokenize --chat --chat-template qwen2.5" + tokenizer + " < " +
          write("chat.json", R"([{"role": "user", "content": "What is 2+2?"}])"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto chat = nlohmann::json::parse(r.output);
  EXPECT_EQ(chat["prompt"], "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                            "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(chat["ids"][0], 151644);
  // A folder without tokenizer.json: the error names the file.
  r = run("tokenize --tokenizer " + dir_.string() + " < " + write("text.txt", "x"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find((dir_ / "tokenizer.json").string()), std::string::npos) << r.output;
}

}  // namespace
}  // namespace r1lab::harness

namespace r1lab::harness {
namespace {

// `report --out FILE`: the report, in any format, goes whole into FILE (a temporary file beside it, renamed).
TEST_F(Cli, ReportOutWritesTheWholeReportToTheFile) {
  auto write_run = [&](const std::string& name, double pass1) {
    nlohmann::json curve = nlohmann::json::array();
    for (int k : {1, 2, 4}) curve.push_back({{"k", k}, {"value", pass1 + 0.05 * k}, {"stderr", 0.05}});
    fs::create_directories(dir_ / name);
    std::ofstream(dir_ / name / "results.json")
        << nlohmann::json{{"model", name}, {"task", {{"name", "aime24"}, {"version", 1}}}, {"n", 4},
                          {"metrics", {{{"name", "pass@1"}, {"k", 1}, {"n", 4}, {"value", pass1}, {"stderr", 0.01}, {"label", "pass@1"}}}},
                          {"curves", {{"pass@k", curve}}}}.dump();
    return (dir_ / name).string();
  };
  const std::string current = write_run("current", 0.5), baseline = write_run("baseline", 0.9);
  const fs::path folder = dir_ / "out", page = folder / "report.html";
  fs::create_directories(folder);
  std::ofstream(page) << "an older report";
  auto read = [](const fs::path& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };

  auto r = run("report " + current + " --format html --out " + page.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("<html"), std::string::npos) << "the page went to standard output";
  std::string html = read(page);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u) << html.substr(0, 100);
  EXPECT_NE(html.find("<figure class=\"plot pass-at-k\">"), std::string::npos);
  EXPECT_EQ(html.substr(html.size() - 8), "</html>\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(folder), fs::directory_iterator()), 1) << "a temporary file was left behind";

  // md and csv: the file holds exactly what standard output would; --out - is standard output.
  for (std::string format : {"md", "csv"}) {
    auto printed = run("report " + current + " --format " + format);
    ASSERT_EQ(printed.exit_code, 0) << printed.output;
    ASSERT_EQ(run("report " + current + " --format " + format + " --out " + (folder / ("r." + format)).string()).exit_code, 0);
    EXPECT_EQ(read(folder / ("r." + format)), printed.output) << format;
    EXPECT_EQ(run("report " + current + " --format " + format + " --out -").output, printed.output) << format;
  }

  // A failing gate still writes its page, verdict included, and exits 1.
  r = run("report " + current + " --baseline " + baseline + " --max-drop 5 --format html --out " + page.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  html = read(page);
  EXPECT_NE(html.find("<strong>gate: FAILED"), std::string::npos);
  EXPECT_LT(html.find("<strong>gate: FAILED"), html.find("</html>"));

  // A folder that does not exist: exit 2, an error naming the path, and nothing written.
  r = run("report " + current + " --out " + (dir_ / "missing" / "r.md").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find((dir_ / "missing").string()), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
}

}  // namespace
}  // namespace r1lab::harness
