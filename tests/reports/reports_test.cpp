#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "reports/html_report.h"
#include "reports/paper_tables.h"
#include "reports/regression_gate.h"
#include "reports/results_table.h"

namespace r1lab::reports {
namespace {

nlohmann::json result(const std::string& model, double pass1, double se) {
  return {{"model", model}, {"task", {{"name", "aime24"}, {"version", 1}}},
          {"metrics", {{{"name", "pass@1"}, {"value", pass1}, {"stderr", se}, {"label", "pass@1 (n=64)"}}}}};
}

std::vector<LoadedRun> runs(std::vector<nlohmann::json> results) {
  std::vector<LoadedRun> out;
  for (auto& r : results) {
    std::string source = "run" + std::to_string(out.size());
    out.push_back({source, r["model"].get<std::string>() + " (" + source + ")", std::move(r)});
  }
  return out;
}

GateOptions max_drop(double points) {
  GateOptions options;
  options.max_drop_points = points;
  return options;
}

TEST(Gate, FailsOnlyOnALargeDropBeyondNoise) {
  // 10 points down, noise 1.96*sqrt(2)*1 = 2.8 points: a regression at max-drop 5.
  EXPECT_TRUE(regression_gate(runs({result("m", 0.60, 0.01)}), runs({result("m", 0.50, 0.01)}), max_drop(5)).failed);
  // Same drop, but within noise (se 5 points each: noise 13.9).
  EXPECT_FALSE(regression_gate(runs({result("m", 0.60, 0.05)}), runs({result("m", 0.50, 0.05)}), max_drop(5)).failed);
  // Beyond noise but below the threshold.
  EXPECT_FALSE(regression_gate(runs({result("m", 0.60, 0.001)}), runs({result("m", 0.58, 0.001)}), max_drop(5)).failed);
  // An improvement never fails, and its drop is negative (drop = baseline − current).
  auto better = regression_gate(runs({result("m", 0.50, 0.001)}), runs({result("m", 0.70, 0.001)}), max_drop(0));
  EXPECT_FALSE(better.failed);
  EXPECT_NEAR(better.lines.at(0).drop, -20, 1e-9);
  EXPECT_NE(better.lines[0].comparison.find("unpaired: no per-problem scores"), std::string::npos);
}

// A results.json of `problems` problems (n = 1) whose first `correct` are right.
nlohmann::json scored(int problems, const std::vector<int>& right, const std::string& task = "math500") {
  nlohmann::json ids = nlohmann::json::array(), scores = nlohmann::json::array();
  std::vector<double> values(static_cast<std::size_t>(problems), 0.0);
  for (int p : right) values[static_cast<std::size_t>(p)] = 1.0;
  double mean = 0;
  for (int p = 0; p < problems; ++p) {
    ids.push_back("p" + std::to_string(p));
    scores.push_back(values[static_cast<std::size_t>(p)]);
    mean += values[static_cast<std::size_t>(p)];
  }
  mean /= problems;
  double se = std::sqrt(mean * (1 - mean) / (problems - 1));
  return {{"model", "m"}, {"task", {{"name", task}, {"version", 1}}},
          {"metrics", {{{"name", "pass@1"}, {"value", mean}, {"stderr", se}, {"label", "pass@1 (n=1)"}}}},
          {"per_problem", {{"id", ids}, {"pass@1", scores}}}};
}

std::vector<int> range(int from, int to) {
  std::vector<int> out;
  for (int i = from; i < to; ++i) out.push_back(i);
  return out;
}

TEST(Gate, PairsTheSameProblemsAndCatchesWhatTheUnpairedBandHides) {
  // 400 of 500 right; then 22 of them made wrong: -4.4 points.
  auto base = scored(500, range(0, 400)), worse = scored(500, range(22, 400));
  auto decision = regression_gate(runs({base}), runs({worse}), max_drop(1));
  ASSERT_EQ(decision.lines.size(), 1u);
  const GateLine& line = decision.lines[0];
  EXPECT_NEAR(line.drop, 4.4, 1e-9);
  EXPECT_EQ(line.comparison, "paired, 500 problems");
  // sd of 22 ones among 500 (ddof 1) over sqrt(500), times 1.96.
  const double p = 22.0 / 500, sd = std::sqrt(p * (1 - p) * 500 / 499) * 100;
  EXPECT_NEAR(line.noise, 1.959964 * sd / std::sqrt(500.0), 1e-3);
  EXPECT_TRUE(decision.failed);
  // The unpaired band (what the gate used to do) would have let it through.
  auto unpaired = worse;
  unpaired.erase("per_problem");
  auto old_way = regression_gate(runs({base}), runs({unpaired}), max_drop(1));
  EXPECT_GT(old_way.lines[0].noise, 4.4);
  EXPECT_FALSE(old_way.failed);
  // Two flipped each way: no drop at all.
  std::vector<int> flipped = range(2, 402);
  EXPECT_FALSE(regression_gate(runs({base}), runs({scored(500, flipped)}), max_drop(1)).failed);
  // Other problem sets: unpaired, and it says so.
  auto fewer = regression_gate(runs({base}), runs({scored(499, range(0, 399))}), max_drop(1));
  EXPECT_NE(fewer.lines[0].comparison.find("unpaired: problem sets differ"), std::string::npos);
}

TEST(Gate, EveryCurrentRunIsComparedAndNoneOverwritesAnother) {
  auto base = scored(500, range(0, 400));
  // The regressed run first or last: the gate fails either way.
  EXPECT_TRUE(regression_gate(runs({base}), runs({scored(500, range(50, 400)), base}), max_drop(1)).failed);
  EXPECT_TRUE(regression_gate(runs({base}), runs({base, scored(500, range(50, 400))}), max_drop(1)).failed);
  EXPECT_EQ(regression_gate(runs({base}), runs({base, base}), max_drop(1)).lines.size(), 2u);
}

TEST(Gate, MissingMetricsFailAndNothingInCommonIsAnError) {
  auto base = scored(500, range(0, 400));
  auto with_cons = base;
  with_cons["metrics"].push_back({{"name", "cons@64"}, {"value", 0.8}, {"stderr", 0.01}, {"label", "cons@64"}});
  auto decision = regression_gate(runs({with_cons}), runs({base}), max_drop(1));
  EXPECT_TRUE(decision.failed);
  EXPECT_TRUE(decision.lines.at(1).missing);
  GateOptions allow = max_drop(1);
  allow.allow_missing = true;
  EXPECT_FALSE(regression_gate(runs({with_cons}), runs({base}), allow).failed);
  // A baseline task that no current run has is missing too.
  EXPECT_TRUE(regression_gate(runs({base, scored(30, {1}, "aime24")}), runs({base}), max_drop(1)).failed);
  EXPECT_THROW(regression_gate(runs({scored(30, {1}, "aime24")}), runs({base}), max_drop(1)), GateError);
  EXPECT_THROW(regression_gate(runs({base, base}), runs({base}), max_drop(1)), GateError);
}

TEST(Gate, TheVerdictIsInEveryFormat) {
  auto base = scored(500, range(0, 400));
  GateOptions options = max_drop(1);
  auto decision = regression_gate(runs({base}), runs({scored(500, range(22, 400))}), options);
  EXPECT_NE(render_gate(decision, options, TableFormat::markdown).find("gate: FAILED (1 regression, 0 missing)"), std::string::npos);
  EXPECT_NE(render_gate(decision, options, TableFormat::markdown).find("| 4.40 |"), std::string::npos);   // drop, positive
  auto csv = render_gate(decision, options, TableFormat::csv);
  EXPECT_EQ(csv.find("|"), std::string::npos);
  EXPECT_NE(csv.find("math500,pass@1,run0,run0,80.0000,75.6000,4.4000,"), std::string::npos) << csv;
  auto html = render_gate(decision, options, TableFormat::html);
  EXPECT_NE(html.find("<strong>gate: FAILED"), std::string::npos);
  EXPECT_EQ(html.find("| "), std::string::npos);
  EXPECT_NEAR(two_sided_normal_quantile(0.95), 1.959964, 1e-6);
  EXPECT_NEAR(two_sided_normal_quantile(0.99), 2.575829, 1e-6);
}

TEST(Table, PaperRowsAndDeltas) {
  auto table = build_table(runs({result("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 0.5, 0.01)}), PaperComparison{"table5", ""});
  auto md = render_table(table, TableFormat::markdown);
  EXPECT_NE(md.find("DeepSeek-R1-Distill-Qwen-7B (paper)"), std::string::npos);
  EXPECT_NE(md.find("55.5"), std::string::npos);                 // the paper's AIME pass@1 for that row
  // The delta row names the paper row it used.
  EXPECT_NE(md.find("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B (run0) − DeepSeek-R1-Distill-Qwen-7B (paper), points"), std::string::npos) << md;
  EXPECT_NE(md.find("-5.5"), std::string::npos);                 // 50.0 - 55.5
  EXPECT_NE(render_table(table, TableFormat::csv).find("aime24_pass@1"), std::string::npos);
  EXPECT_NE(render_table(table, TableFormat::html).find("<table>"), std::string::npos);
  EXPECT_THROW(paper_table("table9"), std::invalid_argument);
  // Paper rows in the paper's order (Table 5 lists GPT-4o first and the Llama distillations last), not
  // alphabetically.
  const auto gpt = md.find("GPT-4o-0513 (paper)"), claude = md.find("Claude-3.5-Sonnet-1022 (paper)"),
             llama70 = md.find("DeepSeek-R1-Distill-Llama-70B (paper)"), qwen32 = md.find("DeepSeek-R1-Distill-Qwen-32B (paper)");
  ASSERT_NE(gpt, std::string::npos);
  EXPECT_LT(gpt, claude);
  EXPECT_LT(qwen32, llama70);
}

TEST(Table, TwoRunsOfOneModelAreTwoRowsAndDeltasNeedAnExactName) {
  // A model called "qwen" is no paper row: no delta row (it used to match Distill-Qwen-1.5B by substring).
  auto table = build_table(runs({result("qwen", 0.5, 0.01), result("qwen", 0.6, 0.01)}), PaperComparison{"table5", ""});
  EXPECT_EQ(std::count_if(table.row_names.begin(), table.row_names.end(),
                          [](const std::string& r) { return r.find("qwen (run") == 0; }), 2);
  for (const auto& row : table.row_names) EXPECT_EQ(row.find("− "), std::string::npos) << row;
  // Named explicitly, every run gets its delta row.
  auto named = build_table(runs({result("qwen", 0.5, 0.01), result("qwen", 0.6, 0.01)}),
                           PaperComparison{"table5", "DeepSeek-R1-Distill-Qwen-7B"});
  EXPECT_EQ(std::count_if(named.row_names.begin(), named.row_names.end(),
                          [](const std::string& r) { return r.find("− DeepSeek-R1-Distill-Qwen-7B (paper)") != std::string::npos; }), 2);
  EXPECT_THROW(build_table(runs({result("qwen", 0.5, 0.01)}), PaperComparison{"table5", "Qwen-9000"}), std::invalid_argument);
}


// A results.json as `r1lab eval` writes it now: sampling, version, curves, a length histogram, breakdowns.
nlohmann::json full_result(const std::string& model) {
  nlohmann::json pass_curve = nlohmann::json::array(), cons_curve = nlohmann::json::array();
  for (int k : {1, 2, 4, 8}) {
    pass_curve.push_back({{"k", k}, {"value", 0.5 + 0.05 * k}, {"stderr", 0.02}});
    cons_curve.push_back({{"k", k}, {"value", 0.5 + 0.02 * k}, {"stderr", 0.02}});
  }
  nlohmann::json edges = nlohmann::json::array(), correct = nlohmann::json::array(), other = nlohmann::json::array();
  for (int i = 0; i <= 20; ++i) edges.push_back(500 * i);
  for (int i = 0; i < 20; ++i) {
    correct.push_back(i < 10 ? 10 - i : 0);
    other.push_back(i / 2);
  }
  auto stats = [](double count, double mean) {
    return nlohmann::json{{"count", count}, {"mean", mean}, {"median", mean}, {"p90", mean * 2}, {"max", mean * 3}};
  };
  return {{"r1lab", {{"version", "0.3.0"}, {"git_sha", "abc1234567890"}}},
          {"created_at", "2025-01-31T09:30:12Z"},
          {"model", model},
          {"task", {{"name", "math500"}, {"version", 1}}},
          {"generation", {{"temperature", 0.6}, {"top_p", 0.95}, {"max_tokens", 32768}, {"sampling_seed", 7}}},
          {"n", 8},
          {"problems", 500},
          {"partial", false},
          {"metrics", {{{"name", "pass@1"}, {"k", 1}, {"n", 8}, {"value", 0.55}, {"stderr", 0.02}, {"label", "pass@1 (n=8)"}},
                       {{"name", "cons@8"}, {"k", 8}, {"n", 8}, {"value", 0.66}, {"stderr", 0.02}, {"label", "cons@8"}}}},
          {"curves", {{"pass@k", pass_curve}, {"cons@k", cons_curve}}},
          {"response_lengths", {{"unit", "tokens"}, {"all", stats(145, 2000)}, {"correct", stats(55, 1500)}, {"other", stats(90, 4000)},
                                {"truncation_rate", 0.04}, {"no_answer_rate", 0.06},
                                {"histogram", {{"edges", edges}, {"correct", correct}, {"other", other}}}}},
          {"breakdowns", {{"level", {{"1", {{"pass@1", 0.9}, {"stderr", 0.03}, {"problems", 43}}},
                                     {"5", {{"pass@1", 0.3}, {"stderr", 0.04}, {"problems", 134}}}}},
                          {"subject", {{"Algebra", {{"pass@1", 0.7}, {"stderr", 0.03}, {"problems", 124}}}}}}}};
}

std::string page_of(const std::vector<LoadedRun>& loaded, std::optional<PaperComparison> paper = std::nullopt,
                    std::optional<GateOutcome> gate = std::nullopt) {
  return render_html_report({loaded, build_table(loaded, paper), paper, std::move(gate), "r1lab test"});
}

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
  return count;
}

TEST(HtmlReport, IsOneWholePageThatLoadsNothing) {
  const std::string page = page_of(runs({full_result("m1"), full_result("m2")}));
  EXPECT_EQ(page.rfind("<!DOCTYPE html>\n<html", 0), 0u) << page.substr(0, 200);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(page.find("<style>"), std::string::npos);
  EXPECT_NE(page.find("<title>r1lab report: math500 (2 runs)</title>"), std::string::npos);
  EXPECT_EQ(page.substr(page.size() - 8), "</html>\n");
  // Self-contained: no network, no script, no external file.
  for (const char* forbidden : {"http://", "https://", "src=", "href=", "<script", "<link", "@import", "url("})
    EXPECT_EQ(page.find(forbidden), std::string::npos) << forbidden;
}

TEST(HtmlReport, ShowsRunDetailsTheTableWithNAndWhatPlusMinusMeans) {
  nlohmann::json limited = full_result("m2");
  limited["partial"] = true;
  limited["partial_detail"] = {{"fewest_samples", 3}, {"most_samples", 8}};
  limited["problem_limit"] = 50;
  limited.erase("generation");
  limited["samples_file"] = {{"path", "/data/outputs/Model-X/math500.jsonl"}, {"format", "skythought"}};
  const std::string page = page_of(runs({full_result("m1"), limited}));
  EXPECT_NE(page.find("2025-01-31 09:30 UTC"), std::string::npos);
  EXPECT_NE(page.find("temperature 0.6, top_p 0.95, max_tokens 32768, seed 7"), std::string::npos);
  EXPECT_NE(page.find("scored from …/Model-X/math500.jsonl (skythought)"), std::string::npos);
  EXPECT_NE(page.find("0.3.0 (abc1234567)"), std::string::npos);
  EXPECT_NE(page.find("partial: some problems have 3 of 8 samples"), std::string::npos);
  EXPECT_NE(page.find("limited: first 50 problems only"), std::string::npos);
  EXPECT_NE(page.find("55.0 ± 2.0<span class=\"n\">n=8</span>"), std::string::npos);   // pass@1 with its n
  EXPECT_NE(page.find("ddof 1"), std::string::npos);
  EXPECT_NE(page.find("one standard error"), std::string::npos);
}

TEST(HtmlReport, DrawsEachPlotKindOnlyWhenItsDataIsThere) {
  const std::string page = page_of(runs({full_result("m1"), full_result("m2")}));
  EXPECT_EQ(count_of(page, "<figure class=\"plot pass-at-k\">\n<svg"), 1u);              // one per task
  EXPECT_EQ(count_of(page, "<figure class=\"plot length-histogram\">\n<svg"), 2u);       // one per run and task
  EXPECT_EQ(count_of(page, "<figure class=\"plot breakdown\">\n<svg"), 2u);              // level and subject
  EXPECT_EQ(count_of(page, "<svg"), 5u);
  EXPECT_NE(page.find(">k (samples per problem, log2 scale)</text>"), std::string::npos);
  for (const char* tick : {">1</text>", ">2</text>", ">4</text>", ">8</text>"}) EXPECT_NE(page.find(tick), std::string::npos) << tick;
  EXPECT_NE(page.find("stroke-dasharray"), std::string::npos);                            // cons@k dashed

  // A results.json from before curves and histograms (and a task without breakdowns): no chart, and it says why.
  nlohmann::json older = full_result("m1");
  older.erase("curves");
  older["response_lengths"].erase("histogram");
  older.erase("breakdowns");
  const std::string plain = page_of(runs({older}));
  EXPECT_EQ(plain.find("<svg"), std::string::npos);
  EXPECT_NE(plain.find("No pass@k curves: these results.json files have no"), std::string::npos);
  EXPECT_NE(plain.find("No response-length histogram for m1 (run0)"), std::string::npos);
  // One sample per problem: a curve of one point is no curve.
  nlohmann::json single = full_result("m1");
  single["curves"] = {{"pass@k", {{{"k", 1}, {"value", 0.5}, {"stderr", 0.02}}}}};
  const std::string one_point = page_of(runs({single}));
  EXPECT_EQ(one_point.find("plot pass-at-k"), std::string::npos);
  EXPECT_NE(one_point.find("needs n &gt; 1 samples per problem"), std::string::npos);
  // A malformed histogram (edges and counts disagree) is skipped, not drawn wrong.
  nlohmann::json malformed = full_result("m1");
  malformed["response_lengths"]["histogram"]["edges"] = {0, 1, 2};
  EXPECT_EQ(page_of(runs({malformed})).find("plot length-histogram"), std::string::npos);
}

TEST(HtmlReport, EscapesEveryTextFromARun) {
  nlohmann::json hostile = full_result("<script>alert(1)</script>");
  hostile["breakdowns"]["subject"]["<b>x</b>"] = {{"pass@1", 0.5}, {"stderr", 0.1}, {"problems", 3}};
  const std::string page = page_of(runs({hostile}));
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(HtmlReport, HasThePaperRowsWithTheirNoteAndTheGateVerdict) {
  auto loaded = runs({full_result("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")});
  const std::string page = page_of(loaded, PaperComparison{"table5", ""});
  EXPECT_NE(page.find("<tr class=\"paper\"><td>DeepSeek-R1-Distill-Qwen-7B (paper)</td>"), std::string::npos);
  EXPECT_NE(page.find("<tr class=\"delta\">"), std::string::npos);
  EXPECT_NE(page.find("lists QwQ-32B-Preview AIME pass@1 as 44.0"), std::string::npos);   // table5's note

  auto base = runs({full_result("m")}), worse = runs({full_result("m")});
  worse[0].results["metrics"][0]["value"] = 0.30;
  GateOptions options = max_drop(1);
  GateOutcome gate{regression_gate(base, worse, options), options};
  ASSERT_TRUE(gate.decision.failed);
  const std::string gated = page_of(worse, std::nullopt, gate);
  EXPECT_NE(gated.find("<strong>gate: FAILED (1 regression, 0 missing)</strong>"), std::string::npos);
  EXPECT_NE(gated.find("<p class=\"banner failed\">"), std::string::npos);
  EXPECT_LT(gated.find("<section class=\"gate\">"), gated.find("</html>"));
  EXPECT_EQ(page.find("Regression gate"), std::string::npos);   // no gate ran: none shown
}

}  // namespace
}  // namespace r1lab::reports
