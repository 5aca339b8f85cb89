// `r1lab eval` against a real third-party OpenAI-compatible server: `transformers serve` (PyPI
// transformers, in .venv from scripts/setup_python.sh) serving a tiny randomly initialised Qwen2 model
// that the test creates with the real Qwen tokenizer. The text is nonsense; the protocol, storage,
// grading and reporting are real. The same run through the fault proxy must store the same samples.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/stored_samples.h"

namespace {

namespace fs = std::filesystem;
using r1lab::testing::ChildProcess;
using r1lab::testing::read_text_file;
using r1lab::testing::stored_samples;

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(s);
  return ntohs(address.sin_port);
}

// True once GET /health answers 200.
bool healthy(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = false;
  if (::connect(s, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    std::string request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(s, request.data(), request.size(), 0) > 0) {
      char buffer[64] = {0};
      ok = ::recv(s, buffer, sizeof buffer - 1, 0) > 12 && std::string(buffer).find(" 200 ") != std::string::npos;
    }
  }
  ::close(s);
  return ok;
}


class LiveServer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("r1lab_live_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    model_ = (dir_ / "tiny-qwen2").string();
    ::setenv("HF_HUB_OFFLINE", "1", 1);
    ::setenv("TRANSFORMERS_VERBOSITY", "error", 1);
    ChildProcess make({R1LAB_PYTHON, std::string(R1LAB_SOURCE_DIR) + "/tests/support/make_tiny_qwen2.py", model_,
                       "--data-dir", R1LAB_SHARED_DATA}, (dir_ / "make.log").string(), (dir_ / "make.log").string());
    ASSERT_EQ(make.wait(), 0) << read_text_file((dir_ / "make.log").string());
    port_ = free_port();
    std::string transformers = fs::path(R1LAB_PYTHON).parent_path() / "transformers";
    server_ = new ChildProcess({transformers, "serve", "--port", std::to_string(port_), "--device", "cpu", model_},
                               (dir_ / "serve.log").string(), (dir_ / "serve.log").string());
    for (int i = 0; i < 240 && !healthy(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ASSERT_TRUE(healthy(port_)) << read_text_file((dir_ / "serve.log").string());
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    fs::remove_all(dir_);
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::pair<int, std::string> eval(const std::string& url, const fs::path& out, std::vector<std::string> extra,
                                   const std::string& model = "") {
    std::vector<std::string> argv = {R1LAB_BINARY, "eval", "--base-url", url, "--model", model.empty() ? model_ : model,
                                     "--out", out.string(), "--data-dir", R1LAB_SHARED_DATA, "--progress", "log",
                                     "--max-tokens", "24", "-j", "2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto log = dir_ / "eval.log";
    fs::remove(log);
    ChildProcess child(argv, log.string(), log.string());
    int code = child.wait();
    return {code, read_text_file(log.string())};
  }
  static nlohmann::json results(const fs::path& task_dir) { return nlohmann::json::parse(std::ifstream(task_dir / "results.json")); }

  static inline fs::path dir_;
  static inline std::string model_;
  static inline int port_ = 0;
  static inline ChildProcess* server_ = nullptr;
};

TEST_F(LiveServer, EvaluatesMathAndGpqaThroughChatAndCompletions) {
  auto out = dir_ / "chat";
  auto [code, output] = eval(base_url(), out, {"--task", "math500,gpqa_diamond", "--limit", "3", "-n", "2"});
  ASSERT_EQ(code, 0) << output << read_text_file((dir_ / "serve.log").string());
  for (const char* task : {"math500", "gpqa_diamond"}) {
    auto res = results(out / task);
    EXPECT_EQ(res["samples"], 6) << task;
    EXPECT_EQ(res["generation"]["failed_requests"], 0);
    EXPECT_EQ(res["generation"]["truncated_samples"], 6);      // 24 tokens of nonsense never stop
    EXPECT_GT(res["generation"]["completion_tokens"].get<long>(), 0);
    EXPECT_EQ(res["verdict_counts"]["unfinished"], 6);         // no </think>: still thinking
  }
  // transformers serve answers one choice whatever n asks: r1lab noticed and asked per sample.
  EXPECT_EQ(results(out / "math500")["generation"]["one_sample_per_request"], true);

  auto raw = dir_ / "completions";
  std::tie(code, output) = eval(base_url(), raw, {"--task", "aime24", "--limit", "2", "-n", "2", "--api", "completions"});
  ASSERT_EQ(code, 0) << output;
  auto rows = stored_samples(raw, "aime24");
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& [key, text] : rows) EXPECT_FALSE(text.empty()) << key.first;
}

TEST_F(LiveServer, FaultProxyChangesNothingThatIsStored) {
  std::vector<std::string> task = {"--task", "aime24", "--limit", "6", "-n", "2", "--api", "completions", "--samples-per-request",
                                   "1", "--temperature", "0"};
  auto reference = dir_ / "direct";
  auto [code, output] = eval(base_url(), reference, task);
  ASSERT_EQ(code, 0) << output;

  auto stats = (dir_ / "faults.json").string();
  ChildProcess proxy({R1LAB_PYTHON, std::string(R1LAB_SOURCE_DIR) + "/tests/support/fault_proxy.py", "--upstream",
                      "http://127.0.0.1:" + std::to_string(port_), "--rate", "0.6", "--seed", "3", "--stats", stats},
                     (dir_ / "proxy.log").string());
  std::string proxied = "http://127.0.0.1:" + std::to_string(proxy.announced_port()) + "/v1";
  auto out = dir_ / "proxied";
  for (std::string a : {"--request-timeout", "3", "--max-retries", "12", "--retry-base-delay", "0.05", "--retry-max-delay", "1"})
    task.push_back(a);
  std::tie(code, output) = eval(proxied, out, task);
  ASSERT_EQ(code, 0) << output;
  auto counts = nlohmann::json::parse(read_text_file(stats));
  int faults = 0;
  for (const char* fault : {"drop", "500", "429", "stall", "cut"}) faults += counts[fault].get<int>();
  EXPECT_GT(faults, 3) << counts;
  auto direct = stored_samples(reference, "aime24");
  EXPECT_EQ(direct.size(), 12u);
  EXPECT_EQ(stored_samples(out, "aime24"), direct);   // greedy: the same text, each sample exactly once
  EXPECT_GT(results(out / "aime24")["generation"]["retries"].get<long>(), 0);
}

TEST_F(LiveServer, AWrongModelNameIsAClearError) {
  auto [code, output] = eval(base_url(), dir_ / "wrong", {"--task", "aime24", "--limit", "1", "-n", "1"}, "not/this-model");
  EXPECT_EQ(code, 2);
  EXPECT_NE(output.find("does not serve the model 'not/this-model'"), std::string::npos) << output;
  EXPECT_NE(output.find(base_url()), std::string::npos) << output;
}

}  // namespace
