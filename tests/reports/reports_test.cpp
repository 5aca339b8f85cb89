#include <gtest/gtest.h>

#include "reports/paper_tables.h"
#include "reports/regression_gate.h"
#include "reports/results_table.h"

namespace r1lab::reports {
namespace {

nlohmann::json result(const std::string& model, double pass1, double se) {
  return {{"model", model}, {"task", {{"name", "aime24"}, {"version", 1}}},
          {"metrics", {{{"name", "pass@1"}, {"value", pass1}, {"stderr", se}, {"label", "pass@1 (n=64)"}}}}};
}

TEST(Gate, FailsOnlyOnALargeDropBeyondNoise) {
  // 10 points down, noise 1.96*sqrt(2)*1 = 2.8 points: a regression at max-drop 5.
  EXPECT_TRUE(regression_gate({result("m", 0.60, 0.01)}, {result("m", 0.50, 0.01)}, 5).failed);
  // Same drop, but within noise (se 5 points each: noise 13.9).
  EXPECT_FALSE(regression_gate({result("m", 0.60, 0.05)}, {result("m", 0.50, 0.05)}, 5).failed);
  // Beyond noise but below the threshold.
  EXPECT_FALSE(regression_gate({result("m", 0.60, 0.001)}, {result("m", 0.58, 0.001)}, 5).failed);
  // An improvement never fails.
  EXPECT_FALSE(regression_gate({result("m", 0.50, 0.001)}, {result("m", 0.70, 0.001)}, 0).failed);
}

TEST(Table, PaperRowsAndDeltas) {
  auto table = build_table({result("DeepSeek-R1-Distill-Qwen-7B", 0.5, 0.01)}, std::string("table5"));
  auto md = render_table(table, TableFormat::markdown);
  EXPECT_NE(md.find("DeepSeek-R1-Distill-Qwen-7B (paper)"), std::string::npos);
  EXPECT_NE(md.find("55.5"), std::string::npos);                 // the paper's AIME pass@1 for that row
  EXPECT_NE(md.find("− paper (points)"), std::string::npos);
  EXPECT_NE(md.find("-5.5"), std::string::npos);                 // 50.0 - 55.5
  EXPECT_NE(render_table(table, TableFormat::csv).find("aime24_pass@1"), std::string::npos);
  EXPECT_NE(render_table(table, TableFormat::html).find("<table>"), std::string::npos);
  EXPECT_THROW(paper_table("table9"), std::invalid_argument);
}

}  // namespace
}  // namespace r1lab::reports
