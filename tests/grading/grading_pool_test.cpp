// The worker pool: results in job order, and a job that hangs, runs out of memory or throws fails alone.
#include "tasks/grading/grading_pool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace r1lab::grading {
namespace {

TEST(GradingPool, ResultsComeBackInJobOrder) {
  PoolOptions options;
  options.workers = 2;
  auto results = run_in_worker_processes(50, options, [](std::size_t i) { return std::to_string(i * i); });
  ASSERT_EQ(results.size(), 50u);
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_TRUE(results[i].ok);
    EXPECT_EQ(results[i].payload, std::to_string(i * i));
  }
}

TEST(GradingPool, AHangingJobIsKilledAndTheRunGoesOn) {
  PoolOptions options;
  options.workers = 2;
  options.hard_deadline = std::chrono::milliseconds(300);
  auto results = run_in_worker_processes(6, options, [](std::size_t i) {
    if (i == 2) for (;;) ::pause();  // never returns
    return std::string("ok");
  });
  EXPECT_FALSE(results[2].ok);
  EXPECT_NE(results[2].failure.find("hard deadline"), std::string::npos);
  for (std::size_t i : {0, 1, 3, 4, 5}) EXPECT_TRUE(results[i].ok) << i;
}

TEST(GradingPool, AJobThatRunsOutOfMemoryFailsAlone) {
  PoolOptions options;
  options.workers = 1;
  options.memory_limit_bytes = std::size_t{512} << 20;
  auto results = run_in_worker_processes(3, options, [](std::size_t i) {
    if (i == 1) {
      std::vector<std::vector<char>> hog;
      for (;;) hog.emplace_back(std::size_t{64} << 20, 'x');  // bad_alloc past the limit: the worker dies
    }
    return std::string("ok");
  });
  EXPECT_TRUE(results[0].ok);
  EXPECT_FALSE(results[1].ok);
  EXPECT_TRUE(results[2].ok);
}

TEST(GradingPool, VerdictsComeBackTypedAndAKilledJobIsATimeout) {
  PoolOptions options;
  options.workers = 2;
  options.hard_deadline = std::chrono::milliseconds(300);
  auto graded = grade_in_worker_processes(4, options, [](std::size_t i) {
    if (i == 1) for (;;) ::pause();  // never returns
    if (i == 2) throw std::runtime_error("a grader bug");
    return Verdict{i == 0 ? VerdictKind::correct : VerdictKind::wrong, "x\u00b2 + 1", "x^2+1", "compared", i == 3 ? "ok" : ""};
  });
  ASSERT_EQ(graded.size(), 4u);
  EXPECT_EQ(graded[0].verdict.kind, VerdictKind::correct);
  EXPECT_EQ(graded[0].verdict.extracted, "x\u00b2 + 1");
  EXPECT_EQ(graded[0].verdict.canonical, "x^2+1");
  EXPECT_EQ(graded[0].verdict.reason, "compared");
  EXPECT_EQ(graded[0].verdict.status, "");
  EXPECT_EQ(graded[3].verdict.status, "ok");
  EXPECT_EQ(graded[1].verdict.kind, VerdictKind::timeout);
  EXPECT_NE(graded[1].verdict.reason.find("hard deadline of 300 ms"), std::string::npos) << graded[1].verdict.reason;
  EXPECT_EQ(graded[1].milliseconds, 300);
  EXPECT_EQ(graded[2].verdict.kind, VerdictKind::timeout);
  EXPECT_NE(graded[2].verdict.reason.find("died"), std::string::npos) << graded[2].verdict.reason;
}

}  // namespace
}  // namespace r1lab::grading
