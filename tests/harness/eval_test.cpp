// `r1lab eval` end to end against real servers on loopback: our deterministic stub (fast, so resume and
// kill trials can run many times), the same behind our fault-injecting proxy, and bad servers. The store
// is checked with SQLite directly, not through r1lab's own reader.
#include <gtest/gtest.h>

#include <algorithm>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/stored_samples.h"

namespace {

namespace fs = std::filesystem;
using r1lab::testing::ChildProcess;
using r1lab::testing::read_text_file;
using r1lab::testing::stored_samples;

struct Finished {
  int exit_code;
  std::string output;
};

// (problem id, sample) -> completion, straight from samples.sqlite.

long query_number(const fs::path& run_dir, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2((run_dir / "samples.sqlite").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  long value = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW)
    value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

// verdicts.jsonl without the timings, which differ between runs.
std::string verdict_lines(const fs::path& task_dir) {
  std::ifstream in(task_dir / "verdicts.jsonl");
  std::string line, kept;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("grading_ms");
    kept += j.dump() + "\n";
  }
  return kept;
}

class Eval : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("r1lab_eval_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    servers_.clear();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Starts the stub; returns its base URL.
  std::string start_stub(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {R1LAB_STUB_SERVER};
    argv.insert(argv.end(), extra.begin(), extra.end());
    servers_.push_back(std::make_unique<ChildProcess>(argv, (dir_ / "stub.log").string()));
    return "http://127.0.0.1:" + std::to_string(servers_.back()->announced_port()) + "/v1";
  }
  std::string start_proxy(const std::string& upstream_base, const std::string& stats, double rate, int seed) {
    std::string upstream = upstream_base.substr(0, upstream_base.size() - 3);  // without /v1
    servers_.push_back(std::make_unique<ChildProcess>(
        std::vector<std::string>{R1LAB_PYTHON, std::string(R1LAB_SOURCE_DIR) + "/tests/support/fault_proxy.py", "--upstream",
                                 upstream, "--rate", std::to_string(rate), "--seed", std::to_string(seed),
                                 "--stall-seconds", "30", "--stats", stats},
        (dir_ / "proxy.log").string()));
    return "http://127.0.0.1:" + std::to_string(servers_.back()->announced_port()) + "/v1";
  }

  std::vector<std::string> eval_args(const std::string& base_url, const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> argv = {R1LAB_BINARY, "eval", "--base-url", base_url, "--model", "stub", "--out", out,
                                     "--data-dir", R1LAB_SHARED_DATA, "--progress", "log", "-j", "2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  Finished r1lab(const std::vector<std::string>& argv) {
    auto log = dir_ / ("run" + std::to_string(++runs_) + ".log");
    ChildProcess child(argv, log.string(), log.string());
    int code = child.wait();
    return {code, read_text_file(log.string())};
  }
  Finished eval(const std::string& base_url, const std::string& out, std::vector<std::string> extra) {
    return r1lab(eval_args(base_url, out, std::move(extra)));
  }
  nlohmann::json results(const fs::path& task_dir) { return nlohmann::json::parse(std::ifstream(task_dir / "results.json")); }

  fs::path dir_;
  std::vector<std::unique_ptr<ChildProcess>> servers_;
  int runs_ = 0;
};

TEST_F(Eval, GeneratesStoresGradesAndScoresLikeOfflineScoring) {
  auto answers = dir_ / "answers.jsonl";
  {
    // The stub answers these MATH-500 problems correctly about half the time, so grading has both kinds.
    std::ifstream data(std::string(R1LAB_SHARED_DATA) + "/math500/test.jsonl");
    std::ofstream out(answers);
    std::string line;
    for (int i = 0; i < 10 && std::getline(data, line); ++i) {
      auto j = nlohmann::json::parse(line);
      out << nlohmann::json{{"contains", j["problem"].get<std::string>().substr(0, 80)}, {"answer", j["answer"]}}.dump() << "\n";
    }
  }
  std::string url = start_stub({"--answers", answers.string()});
  auto out = dir_ / "run";
  auto r = eval(url, out.string(), {"--task", "math500,aime24", "--limit", "10", "-n", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto math = results(out / "math500");
  EXPECT_EQ(math["problems"], 10);
  EXPECT_EQ(math["n"], 4);
  EXPECT_EQ(math["samples"], 40);
  EXPECT_EQ(math["generation"]["temperature"], 0.6);
  EXPECT_EQ(math["generation"]["failed_requests"], 0);
  EXPECT_EQ(math["generation"]["requests"], 10);   // n=4 in one request per problem
  long correct = math["verdict_counts"]["correct"].get<long>();
  EXPECT_GT(correct, 5);
  EXPECT_LT(correct, 35);
  EXPECT_EQ(results(out / "aime24")["samples"], 40);
  EXPECT_EQ(stored_samples(out, "math500").size(), 40u);
  // n = 4 per request: the server's usage covers the request, so lengths are characters, labelled so...
  EXPECT_EQ(math["response_lengths"]["unit"], "characters");
  // ...unless a tokenizer counts each completion (the Qwen3 tokenizer.json from the data folder).
  const std::string tokenizer = std::string(R1LAB_SHARED_DATA) + "/tokenizers/qwen3_tokenizer_npm";
  auto counted = dir_ / "counted";
  r = eval(url, counted.string(), {"--task", "math500", "--limit", "3", "-n", "2", "--tokenizer", tokenizer});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto lengths = results(counted / "math500")["response_lengths"];
  EXPECT_EQ(lengths["unit"], "tokens");
  EXPECT_NE(lengths["counted_by"].get<std::string>().find("tokenizer"), std::string::npos) << lengths.dump();
  {
    // Each count is the tokenizer's: r1lab tokenize over the same text gives as many ids.
    std::ifstream verdicts(counted / "math500" / "verdicts.jsonl");
    std::string first;
    std::getline(verdicts, first);
    auto line = nlohmann::json::parse(first);
    auto texts = stored_samples(counted, "math500");
    auto text = texts.at({line["id"].get<std::string>(), line["sample"].get<long>()});
    std::ofstream(dir_ / "text.txt") << text;
    auto ids = r1lab({"/bin/sh", "-c", std::string(R1LAB_BINARY) + " tokenize --tokenizer " + tokenizer + " < " + (dir_ / "text.txt").string()});
    ASSERT_EQ(ids.exit_code, 0) << ids.output;
    EXPECT_EQ(line["tokens"].get<std::int64_t>(), static_cast<std::int64_t>(nlohmann::json::parse(ids.output).size())) << ids.output;
  }

  // export -> score gives the same verdicts and metrics.
  r = r1lab({R1LAB_BINARY, "export", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = r1lab({R1LAB_BINARY, "score", "--task", "math500", "--samples", (out / "math500" / "samples.jsonl").string(), "--out",
             (dir_ / "rescored").string(), "--data-dir", R1LAB_SHARED_DATA, "--allow-partial"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rescored = results(dir_ / "rescored");
  EXPECT_EQ(rescored["verdict_counts"], math["verdict_counts"]);
  EXPECT_EQ(verdict_lines(dir_ / "rescored"), verdict_lines(out / "math500"));
  // --out - writes the lines to standard output, and no file named "-".
  r = r1lab({R1LAB_BINARY, "export", out.string(), "--task", "aime24", "--out", "-"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 40);
  EXPECT_EQ(r.output.find("wrote"), std::string::npos);
  EXPECT_FALSE(fs::exists("-"));
}

TEST_F(Eval, ResumeAsksOnlyForWhatIsMissingAndRefusesOtherSampling) {
  std::string url = start_stub();
  auto out = dir_ / "run";
  auto r = eval(url, out.string(), {"--task", "aime24", "--limit", "5", "-n", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto first = stored_samples(out, "aime24");
  ASSERT_EQ(first.size(), 10u);

  // More samples: only samples 2 and 3 of each problem are requested; the first ones stay as they were.
  r = eval(url, out.string(), {"--task", "aime24", "--limit", "5", "-n", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("10 samples to generate, 10 stored"), std::string::npos) << r.output;
  auto second = stored_samples(out, "aime24");
  EXPECT_EQ(second.size(), 20u);
  for (const auto& [key, text] : first) EXPECT_EQ(second.at(key), text);
  EXPECT_EQ(query_number(out, "SELECT count(*) FROM requests WHERE first_sample = 2"), 5);

  // The same command again asks for nothing.
  r = eval(url, out.string(), {"--task", "aime24", "--limit", "5", "-n", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 samples to generate, 20 stored, 0 to grade"), std::string::npos) << r.output;
  EXPECT_EQ(query_number(out, "SELECT count(*) FROM requests"), 10);

  // Other grading options: the verdicts are recomputed, nothing is generated.
  r = eval(url, out.string(), {"--task", "aime24", "--limit", "5", "-n", "4", "--think", "none"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0 samples to generate, 20 stored, 20 to grade"), std::string::npos) << r.output;

  // Other sampling parameters: refused, with what differs and how to start over.
  r = eval(url, out.string(), {"--task", "aime24", "--limit", "5", "-n", "4", "--temperature", "0.7"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("temperature: was 0.6, now 0.7"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--restart"), std::string::npos) << r.output;
  EXPECT_EQ(stored_samples(out, "aime24").size(), 20u);

  r = eval(url, out.string(), {"--task", "aime24", "--limit", "5", "-n", "4", "--temperature", "0.7", "--restart"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  bool kept_aside = false;
  for (const auto& entry : fs::directory_iterator(out))
    if (entry.path().filename().string().rfind("replaced-", 0) == 0 && fs::exists(entry.path() / "samples.sqlite")) kept_aside = true;
  EXPECT_TRUE(kept_aside);
}

TEST_F(Eval, JoinsReasoningAndFallsBackToOneSamplePerRequest) {
  std::string url = start_stub({"--no-n", "--reasoning-field"});
  auto out = dir_ / "run";
  auto r = eval(url, out.string(), {"--task", "math500", "--limit", "4", "-n", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto rows = stored_samples(out, "math500");
  ASSERT_EQ(rows.size(), 12u);
  for (const auto& [key, text] : rows) {
    EXPECT_EQ(text.rfind("<think>\nStub reasoning", 0), 0u) << text;
    EXPECT_NE(text.find("\n</think>\n\nThe answer is \\boxed{"), std::string::npos) << text;
  }
  auto res = results(out / "math500");
  EXPECT_EQ(res["generation"]["one_sample_per_request"], true);
  EXPECT_EQ(res["verdict_counts"]["no_answer"], 0);   // every answer was found after </think>
  EXPECT_EQ(res["verdict_counts"]["unfinished"], 0);
}

TEST_F(Eval, BadServersAreClearErrorsAndKeepWhatIsFinished) {
  auto out = dir_ / "run";
  // Nothing listens on the port.
  auto r = eval("http://127.0.0.1:9/v1", out.string(), {"--task", "aime24", "--limit", "2", "-n", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("cannot reach http://127.0.0.1:9/v1/models"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--base-url"), std::string::npos) << r.output;

  std::string url = start_stub();
  r = eval(url, out.string(), {"--task", "aime24", "--limit", "2", "-n", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(stored_samples(out, "aime24").size(), 2u);

  // A model name the server does not serve.
  auto args = eval_args(url, (dir_ / "other").string(), {"--task", "aime24", "--limit", "2", "-n", "1"});
  args[5] = "no-such-model";
  r = r1lab(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("serves stub, not 'no-such-model': pass --model"), std::string::npos) << r.output;

  // A server answering 200 with a body that is not JSON: an error naming the endpoint; the two samples
  // finished before stay.
  std::string broken = start_stub({"--malformed"});
  r = eval(broken, out.string(), {"--task", "aime24", "--limit", "4", "-n", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(broken + "/chat/completions answered HTTP 200 with a body r1lab cannot read"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nothing finished is lost"), std::string::npos) << r.output;
  EXPECT_EQ(stored_samples(out, "aime24").size(), 2u);
  r = eval(url, out.string(), {"--task", "aime24", "--limit", "4", "-n", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stored_samples(out, "aime24").size(), 4u);
}

TEST_F(Eval, CompletesEverySampleExactlyOnceThroughAFaultyProxy) {
  std::string url = start_stub();
  auto reference = dir_ / "reference";
  std::vector<std::string> task = {"--task", "math500", "--limit", "15", "-n", "2", "--samples-per-request", "1"};
  auto r = eval(url, reference.string(), task);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  auto stats = (dir_ / "faults.json").string();
  std::string proxied = start_proxy(url, stats, 0.5, 7);
  auto out = dir_ / "run";
  auto args = task;
  // Retries generous enough that a run of faults (each proxied attempt fails with p = 0.5) under a loaded
  // machine never exhausts them: the point is that every sample arrives exactly once.
  for (std::string a : {"--request-timeout", "2", "--max-retries", "40", "--max-in-flight", "4", "--retry-base-delay", "0.05",
                        "--retry-max-delay", "1"})
    args.push_back(a);
  r = eval(proxied, out.string(), args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto counts = nlohmann::json::parse(read_text_file(stats));
  for (const char* fault : {"drop", "500", "429", "stall", "cut"}) EXPECT_GT(counts[fault].get<int>(), 0) << fault << ": " << counts;
  EXPECT_EQ(stored_samples(out, "math500"), stored_samples(reference, "math500"));
  EXPECT_EQ(verdict_lines(out / "math500"), verdict_lines(reference / "math500"));
  auto res = results(out / "math500");
  EXPECT_GT(res["generation"]["retries"].get<long>(), 0);
  EXPECT_EQ(res["generation"]["failed_requests"], 0);
  EXPECT_EQ(query_number(out, "SELECT count(*) FROM requests"), 30);
}

TEST_F(Eval, SurvivesTwentyKillsWithNothingLostOrDuplicated) {
  std::string url = start_stub({"--delay-ms", "15"});
  std::vector<std::string> task = {"--task", "math500", "--limit", "40", "-n", "4", "--samples-per-request", "1",
                                   "--max-in-flight", "8"};
  auto reference = dir_ / "reference";
  auto r = eval(url, reference.string(), task);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  auto out = dir_ / "run";
  std::mt19937 random(2026);
  std::uniform_int_distribution<int> moment_ms(30, 400);
  std::map<std::pair<std::string, long>, std::string> before;
  int kills = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto log = dir_ / "killed.log";
    ChildProcess child(eval_args(url, out.string(), task), log.string(), log.string());
    std::this_thread::sleep_for(std::chrono::milliseconds(moment_ms(random)));
    child.signal(SIGKILL);
    int code = child.wait();
    auto now = stored_samples(out, "math500");
    for (const auto& [key, text] : before) ASSERT_EQ(now.count(key), 1u) << "lost " << key.first << "#" << key.second;
    before = now;
    if (code == 128 + SIGKILL) ++kills;
    if (kills >= 20 && now.size() > 100) break;
    if (now.size() == 160 && code == 0) {  // finished before the kill: start over to keep killing
      if (kills >= 20) break;
      fs::remove_all(out);
      before.clear();
    }
  }
  EXPECT_GE(kills, 20);
  r = eval(url, out.string(), task);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(stored_samples(out, "math500"), stored_samples(reference, "math500"));
  EXPECT_EQ(query_number(out, "SELECT count(*) FROM samples"), 160);
  EXPECT_EQ(verdict_lines(out / "math500"), verdict_lines(reference / "math500"));
  auto res = results(out / "math500"), ref = results(reference / "math500");
  EXPECT_EQ(res["metrics"], ref["metrics"]);
  EXPECT_EQ(res["verdict_counts"], ref["verdict_counts"]);
}

}  // namespace
