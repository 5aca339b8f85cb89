#include "metrics/pass_at_k.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

namespace r1lab::metrics {
namespace {

TEST(PassAtK, PublishedVectors) {
  std::ifstream in(R1LAB_TEST_DATA "/metrics/pass_at_k_vectors.jsonl");
  ASSERT_TRUE(in);
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    auto v = nlohmann::json::parse(line);
    EXPECT_NEAR(pass_at_k(v["n"], v["c"], v["k"]), v["expected"].get<double>(), 1e-15) << line;
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

// The probability that a random k-subset of n samples (c correct) contains a correct one, by enumeration.
double brute_force(int n, int c, int k) {
  long total = 0, hit = 0;
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    if (__builtin_popcount(mask) != k) continue;
    ++total;
    if (mask & ((1u << c) - 1)) ++hit;  // samples 0..c-1 are the correct ones
  }
  return static_cast<double>(hit) / static_cast<double>(total);
}

TEST(PassAtK, MatchesEnumerationForSmallN) {
  for (int n = 1; n <= 10; ++n)
    for (int c = 0; c <= n; ++c)
      for (int k = 1; k <= n; ++k) EXPECT_NEAR(pass_at_k(n, c, k), brute_force(n, c, k), 1e-12) << n << " " << c << " " << k;
}

TEST(PassAtK, PassAtOneIsTheFractionCorrect) {
  EXPECT_DOUBLE_EQ(pass_at_k(64, 16, 1), 0.25);
  EXPECT_DOUBLE_EQ(pass_at_k(3, 1, 1), 1.0 / 3.0);
}

TEST(PassAtK, KGreaterThanNIsAnError) {
  EXPECT_THROW(pass_at_k(4, 1, 8), MetricError);
  EXPECT_THROW(pass_at_k(0, 0, 1), MetricError);
  EXPECT_THROW(pass_at_k(4, 5, 1), MetricError);
}

}  // namespace
}  // namespace r1lab::metrics
