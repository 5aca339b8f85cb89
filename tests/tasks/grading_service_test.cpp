// The grading service: typed verdicts back from its own process, timeouts, and a grading process that
// dies with jobs outstanding is reported, not waited for.
#include "tasks/grading_service.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace r1lab::tasks {
namespace {

using grading::Verdict;
using grading::VerdictKind;

// Grades by exact comparison with the reference. Two completions act instead: "hang" never returns,
// and "kill the grading process" kills the worker's parent, the grading process.
class EchoTask : public Task {
 public:
  EchoTask() {
    info_.name = "echo";
    problems_ = {{"p0", "say 1", "1", {}, {}}, {"p1", "say 2", "2", {}, {}}};
  }
  const TaskInfo& info() const override { return info_; }
  void load(const DataDirectory&) override {}
  SamplePrompt prompt(const Problem& problem, std::uint64_t, const GradingConfig&) const override {
    return {problem.statement, std::nullopt};
  }
  Verdict grade(const Problem& problem, std::uint64_t sample, const std::string& completion, const std::string& prompt,
                const GradingConfig&) const override {
    if (completion == "hang") for (;;) ::pause();
    if (completion == "kill the grading process") ::kill(::getppid(), SIGKILL);
    VerdictKind kind = completion == problem.reference ? VerdictKind::correct : VerdictKind::wrong;
    return {kind, completion, problem.reference, "sample " + std::to_string(sample) + " of " + prompt,
            sample % 2 ? "odd" : ""};
  }
  bool same_answer(const Problem&, const Verdict& a, const Verdict& b, const GradingConfig&) const override {
    return a.extracted == b.extracted;
  }
  nlohmann::json grading_options(const GradingConfig&) const override { return nlohmann::json::object(); }

 private:
  TaskInfo info_;
};

std::vector<GradeOutcome> finish_and_take(GradingService& service) {
  service.finish();
  return service.take_finished();
}

TEST(GradingService, VerdictsComeBackTyped) {
  EchoTask task;
  GradingService service({{&task, {}, std::chrono::milliseconds(5000)}}, 2, {});
  for (std::uint64_t sample = 0; sample < 20; ++sample)
    service.submit({0, static_cast<std::uint32_t>(sample % 2), sample, sample % 3 ? "1" : "2", "the prompt"});
  auto outcomes = finish_and_take(service);
  EXPECT_EQ(service.failure(), "");
  EXPECT_EQ(service.outstanding(), 0u);
  ASSERT_EQ(outcomes.size(), 20u);
  for (const auto& o : outcomes) {
    const std::string completion = o.sample % 3 ? "1" : "2";
    const std::string reference = o.problem == 0 ? "1" : "2";
    EXPECT_EQ(o.task, 0u);
    EXPECT_EQ(o.problem, o.sample % 2);
    EXPECT_EQ(o.verdict.is_correct(), completion == reference) << o.sample;
    EXPECT_EQ(o.verdict.extracted, completion);
    EXPECT_EQ(o.verdict.canonical, reference);
    EXPECT_EQ(o.verdict.reason, "sample " + std::to_string(o.sample) + " of the prompt");
    EXPECT_EQ(o.verdict.status, o.sample % 2 ? "odd" : "");
  }
}

TEST(GradingService, AHangingGraderGetsATimeoutVerdict) {
  EchoTask task;
  GradingService service({{&task, {}, std::chrono::milliseconds(300)}}, 2, {});
  service.submit({0, 0, 0, "hang", ""});
  service.submit({0, 0, 1, "1", ""});
  auto outcomes = finish_and_take(service);
  EXPECT_EQ(service.failure(), "");
  ASSERT_EQ(outcomes.size(), 2u);
  for (const auto& o : outcomes) {
    if (o.sample == 0) {
      EXPECT_EQ(o.verdict.kind, VerdictKind::timeout);
      EXPECT_NE(o.verdict.reason.find("hard deadline of 300 ms"), std::string::npos) << o.verdict.reason;
    } else {
      EXPECT_TRUE(o.verdict.is_correct());
    }
  }
}

TEST(GradingService, AGradingProcessThatDiesIsReportedNotWaitedFor) {
  EchoTask task;
  GradingService service({{&task, {}, std::chrono::milliseconds(5000)}}, 1, {});
  service.submit({0, 0, 0, "kill the grading process", ""});
  // The job never comes back; a caller that waits for outstanding() to reach 0 must learn why instead.
  for (int i = 0; i < 500 && service.failure().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(service.failure(), "the grading process was killed by signal 9");
  EXPECT_EQ(service.outstanding(), 1u);
  service.abort();
}

TEST(GradingService, AbortIsNotAFailure) {
  EchoTask task;
  GradingService service({{&task, {}, std::chrono::milliseconds(5000)}}, 1, {});
  service.submit({0, 0, 0, "hang", ""});
  service.abort();
  EXPECT_EQ(service.failure(), "");
}

}  // namespace
}  // namespace r1lab::tasks
