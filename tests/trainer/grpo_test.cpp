// `r1lab train grpo` end to end, on a tiny byte-level model that writes the R1-Zero format most of the
// time (tests/support/train_runs.h): every metric is logged, one update per rollout has ratio 1 and a
// zero loss yet moves the weights, old logprobs are recomputed exactly, the reference's KL appears
// with beta, exact resume after kill -9, two Gloo ranks reproduce one, a resume under other settings
// is refused, and `init-model`'s tokenizer and weights are what Hugging Face reads.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <fstream>
#include <filesystem>
#include <random>
#include <thread>

#include "tests/support/tiny_models.h"
#include "tests/support/train_runs.h"
#include "tokenizer/bpe_tokenizer.h"
#include "trainer/causal_lm.h"

namespace fs = std::filesystem;
using namespace r1lab::testing;

namespace {

std::vector<std::string> grpo_command(const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {R1LAB_BINARY, "train", "grpo", "--model", tiny_addition_model().string(), "--task", "addition_train",
                                   "--out", out.string(), "--progress", "none", "--prompts-per-step", "4", "--group-size", "4",
                                   "--max-new-tokens", "24", "--format-weight", "1", "--overlong-buffer", "8", "--lr", "1e-3",
                                   "--grading-workers", "1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(TrainGrpo, EveryMetricIsLoggedAndOneUpdatePerRolloutHasRatioOneYetLearns) {
  fs::path out = work_folder() / "grpo_mu1";
  ASSERT_EQ(run_program(grpo_command(out, {"--max-steps", "3", "--seed", "2", "--loss-aggregation", "seq-mean-token-mean",
                                           "--language-weight", "0.1"})), 0);
  auto steps = metrics(out);
  ASSERT_EQ(steps.size(), 3u);
  bool moved = false;
  for (const auto& m : steps) {
    for (const char* key : {"reward", "reward_std", "reward_accuracy", "reward_format", "reward_overlong", "accuracy", "zero_std_fraction",
                            "response_length_mean", "response_length_max", "truncation_rate", "entropy", "clip_low_fraction",
                            "clip_high_fraction", "ratio_mean", "ratio_max", "logprob_gap_mean", "logprob_gap_max", "rollout_s", "reward_s",
                            "old_logprobs_s", "reference_s", "update_s", "tokens_per_s", "grad_norm", "loss"}) {
      EXPECT_TRUE(m.contains(key)) << key;
    }
    // One update per rollout: the old policy is the current one, the ratio is exactly 1, nothing is
    // clipped, and with beta 0 and GRPO's aggregation the loss value is 0 (each group's advantages sum
    // to 0, and every sequence weighs the same) ...
    EXPECT_EQ(m["ratio_max"].get<double>(), 1.0);
    EXPECT_NEAR(m["ratio_mean"].get<double>(), 1.0, 1e-12);
    EXPECT_EQ(m["clip_low_fraction"].get<double>(), 0.0);
    EXPECT_NEAR(m["loss"].get<double>(), 0.0, 1e-6);
    // ... the engine's logprobs are the training forward's ...
    EXPECT_LT(m["logprob_gap_max"].get<double>(), 1e-4);
    // ... and yet, when some group's rewards differ, the gradient is not zero.
    if (m["zero_std_fraction"].get<double>() < 1.0) {
      EXPECT_GT(m["grad_norm"].get<double>(), 0.0);
      moved = true;
    }
    EXPECT_GT(m["reward_format"].get<double>(), 0.0);   // the SFT'd policy writes the format
    ASSERT_TRUE(m["reward_language"].is_number()) << m.dump();
    EXPECT_TRUE(m["reward_language"].get<double>() >= 0 && m["reward_language"].get<double>() <= 1);
  }
  ASSERT_TRUE(moved) << "no group had differing rewards: the test policy is too uniform";
  EXPECT_GT(weights_difference(tiny_addition_model(), out / "final"), 1e-6);
}

TEST(TrainGrpo, SeveralUpdatesPerRolloutStartAtRatioOneThenClipAndTheReferenceGivesAKl) {
  fs::path out = work_folder() / "grpo_mu3";
  ASSERT_EQ(run_program(grpo_command(out, {"--max-steps", "2", "--updates-per-rollout", "3", "--beta", "0.04", "--lr", "5e-3",
                                            "--epsilon-high", "0.28", "--loss-aggregation", "seq-mean-token-mean"})), 0);
  auto steps = metrics(out);
  ASSERT_EQ(steps.size(), 2u);
  for (const auto& m : steps) {
    // The old logprobs, recomputed by the training forward with the update's micro-batches, equal the
    // first update's bit for bit; the later updates move the ratio away from 1, and clipping bites.
    EXPECT_EQ(m["old_logprob_gap_max"].get<double>(), 0.0);
    EXPECT_GT(m["ratio_max"].get<double>(), 1.0);
    EXPECT_GT(m["clip_low_fraction"].get<double>() + m["clip_high_fraction"].get<double>(), 0.0);
    EXPECT_GT(m["old_logprobs_s"].get<double>(), 0.0);
    EXPECT_GT(m["reference_s"].get<double>(), 0.0);
  }
  // The first step starts from the reference: KL 0; after three updates of the first step, not.
  EXPECT_EQ(steps[0]["kl"].get<double>(), 0.0);
  EXPECT_GT(steps[1]["kl"].get<double>(), 0.0);
}

TEST(TrainGrpo, DynamicSamplingTrainsOnlyGroupsThatDifferAndMaskTruncatedLeavesCutCompletionsOut) {
  fs::path dynamic = work_folder() / "grpo_dynamic";
  ASSERT_EQ(run_program(grpo_command(dynamic, {"--max-steps", "3", "--dynamic-sampling", "--max-draws", "3", "--seed", "8"})), 0);
  for (const auto& m : metrics(dynamic)) {
    const double drawn = m["groups_drawn"].get<double>(), differ = drawn * (1 - m["zero_std_fraction"].get<double>());
    EXPECT_EQ(m["groups_trained"].get<double>(), std::min(4.0, std::round(differ))) << m.dump();
    EXPECT_EQ(drawn, 4.0 * m["draws"].get<double>());
    // Draws stop once 4 groups differ, or after 3.
    EXPECT_TRUE(m["draws"].get<int>() == 3 || std::round(differ) >= 4) << m.dump();
  }
  // Every completion cut at 6 tokens: nothing to train on, and the step goes through.
  fs::path cut = work_folder() / "grpo_cut";
  ASSERT_EQ(run_program(grpo_command(cut, {"--max-steps", "1", "--max-new-tokens", "6", "--overlong-buffer", "0", "--mask-truncated"})), 0);
  auto m = metrics(cut).at(0);
  EXPECT_EQ(m["truncation_rate"].get<double>(), 1.0);
  EXPECT_EQ(m["sequences_trained"].get<double>(), 0.0);
  EXPECT_EQ(m["grad_norm"].get<double>(), 0.0);
  EXPECT_EQ(weights_difference(tiny_addition_model(), cut / "final"), 0.0);
}

TEST(TrainGrpo, KilledAtRandomMomentsResumesToTheSameWeights) {
  const std::vector<std::string> settings = {"--max-steps", "6", "--save-every", "1", "--keep-checkpoints", "2", "--seed", "4",
                                             "--updates-per-rollout", "2"};
  fs::path reference = work_folder() / "grpo_uninterrupted", killed = work_folder() / "grpo_killed";
  ASSERT_EQ(run_program(grpo_command(reference, settings)), 0);
  auto command = grpo_command(killed, settings);
  std::mt19937 random(777);
  int kills = 0;
  for (int attempt = 0; attempt < 30 && kills < 5; ++attempt) {
    ChildProcess child(command, (work_folder() / "grpo_killed.log").string(), "/dev/null");
    const int delay_ms = std::uniform_int_distribution<int>(400, 2500)(random);
    for (int waited = 0; waited < delay_ms && !fs::exists(killed / "final" / "model.safetensors"); waited += 20) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    child.signal(SIGKILL);
    if (child.wait() == 0) break;
    ++kills;
  }
  EXPECT_GE(kills, 3);
  ASSERT_EQ(run_program(command), 0);
  EXPECT_EQ(file_bytes(killed / "final" / "model.safetensors"), file_bytes(reference / "final" / "model.safetensors"));
  auto a = metrics(reference), b = metrics(killed);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["reward"], b[i]["reward"]) << "step " << i + 1;
    EXPECT_EQ(a[i]["grad_norm"], b[i]["grad_norm"]) << "step " << i + 1;
  }
}

TEST(TrainGrpoDistributed, TwoGlooRanksReproduceOneRank) {
  // 4 prompts a draw: each of 2 ranks generates 2 groups; which groups train under dynamic sampling, the
  // batch's std and the loss weights are decided over both ranks.
  const std::vector<std::string> settings = {"--max-steps", "4", "--seed", "6", "--updates-per-rollout", "2",
                                             "--loss-aggregation", "seq-mean-token-mean", "--scale-rewards", "batch",
                                             "--dynamic-sampling", "--max-draws", "2"};
  fs::path one = work_folder() / "grpo_dp_one", two = work_folder() / "grpo_dp_two";
  ASSERT_EQ(run_program(grpo_command(one, settings)), 0);
  auto with_two = grpo_command(two, settings);
  with_two.insert(with_two.end(), {"--nproc", "2"});
  ASSERT_EQ(run_program(with_two), 0);
  auto a = metrics(one), b = metrics(two);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i]["world_size"], 2);
    // The same samples (rollout seeds do not depend on the rank) ...
    EXPECT_EQ(a[i]["reward"], b[i]["reward"]) << "step " << i + 1;
    EXPECT_EQ(a[i]["response_length_mean"], b[i]["response_length_mean"]) << "step " << i + 1;
    EXPECT_EQ(a[i]["loss_tokens"], b[i]["loss_tokens"]) << "step " << i + 1;
    EXPECT_EQ(a[i]["groups_trained"], b[i]["groups_trained"]) << "step " << i + 1;
    EXPECT_EQ(a[i]["draws"], b[i]["draws"]) << "step " << i + 1;
    // ... and the same gradient, summed in another order and computed in GEMMs of other shapes (one rank's
    // shared-prompt rows are padded to another width than each of two ranks'), so it drifts with the
    // updates by rounding: 2.5e-6 relative at step 4 (after 6 updates) measured.
    const double g = a[i]["grad_norm"].get<double>();
    EXPECT_NEAR(b[i]["grad_norm"].get<double>(), g, 1e-5 * std::max(1.0, g)) << "step " << i + 1;
  }
  EXPECT_LT(weights_difference(one / "final", two / "final"), 5e-5);
}

TEST(TrainGrpo, CheckpointsAreEvaluatedWithR1labEvalAndSigtermSavesAndResumes) {
  fs::path out = work_folder() / "grpo_eval", log = work_folder() / "grpo_eval.txt";
  auto command = grpo_command(out, {"--max-steps", "12", "--eval-task", "addition", "--eval-every", "2", "--eval-limit", "20"});
  {
    ChildProcess child(command, log.string(), "/dev/null");
    for (int i = 0; i < 600 && metrics(out).size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    child.signal(SIGTERM);
    EXPECT_EQ(child.wait(), 128 + SIGTERM) << file_bytes(log);
  }
  EXPECT_NE(file_bytes(log).find("checkpoint saved; rerun the same command to resume"), std::string::npos) << file_bytes(log);
  const std::size_t stopped_at = metrics(out).size();
  ASSERT_LT(stopped_at, 12u);
  ASSERT_EQ(run_program(command), 0);
  // Every even step was evaluated by `r1lab eval` (results where `r1lab report` reads them), once.
  std::vector<nlohmann::json> evals;
  std::ifstream in(out / "eval.jsonl");
  for (std::string line; std::getline(in, line);) evals.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(evals.size(), 6u) << file_bytes(out / "eval.jsonl");
  for (std::size_t i = 0; i < evals.size(); ++i) {
    EXPECT_EQ(evals[i]["step"], 2 * (i + 1));
    const double pass = evals[i]["pass@1"].get<double>();
    EXPECT_TRUE(pass >= 0 && pass <= 1);
    auto results = nlohmann::json::parse(std::ifstream(evals[i]["results"].get<std::string>()));
    EXPECT_EQ(results["problems"], 20);
    EXPECT_EQ(results["task"]["name"], "addition");
  }
}

TEST(TrainGrpo, AResumeUnderOtherSettingsIsRefusedAndBadFlagsAreNamed) {
  fs::path out = work_folder() / "grpo_refuse", log = work_folder() / "grpo_refuse.txt";
  ASSERT_EQ(run_program(grpo_command(out, {"--max-steps", "1"})), 0);
  EXPECT_NE(run_program(grpo_command(out, {"--max-steps", "1", "--beta", "0.1"}), "/dev/null", log.string()), 0);
  EXPECT_NE(file_bytes(log).find("beta: was 0.0, now 0.1"), std::string::npos) << file_bytes(log);
  EXPECT_NE(run_program(grpo_command(work_folder() / "grpo_bad", {"--group-size", "1"}), "/dev/null", log.string()), 0);
  EXPECT_NE(file_bytes(log).find("--group-size must be at least 2"), std::string::npos) << file_bytes(log);
  EXPECT_NE(run_program(grpo_command(work_folder() / "grpo_bad", {"--task", "no_such_task"}), "/dev/null", log.string()), 0);
  EXPECT_NE(file_bytes(log).find("no_such_task"), std::string::npos) << file_bytes(log);
}

TEST(InitModel, TheTokenizerEncodesAsHuggingFaceTokenizersAndTheWeightsOpenInTransformers) {
  const fs::path& dir = tiny_addition_model();
  // Our ids against the tokenizers library's for the training text and for text it never saw.
  fs::path texts = work_folder() / "init_texts.json";
  nlohmann::json list = nlohmann::json::array({"What is 12345 + 67890?", " <think> </think> <answer>80235</answer>",
                                               "Ünïcödé, tabs\tand\nnewlines — 3.14159", ""});
  std::ofstream(texts) << list.dump();
  fs::path ours = work_folder() / "init_ours.json";
  {
    nlohmann::json ids = nlohmann::json::array();
    auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
    for (const auto& t : list) ids.push_back(tokenizer->encode(t.get<std::string>()));
    std::ofstream(ours) << ids.dump();
  }
  run_python_oracle("tokenizer_oracle.py", {"compare", dir.string(), texts.string(), ours.string()});
  // Every id is a token: the vocabulary has no holes (two merges that spell one string make one token).
  auto tokenizer = r1lab::tokenizer::BpeTokenizer::load(dir);
  auto config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  EXPECT_EQ(static_cast<std::int64_t>(tokenizer->vocab_size()), config["vocab_size"].get<std::int64_t>());
  for (std::size_t id = 0; id < tokenizer->vocab_size(); ++id) EXPECT_FALSE(tokenizer->token_bytes(static_cast<int>(id)).empty()) << id;
  // Logits of the (trained) weights in transformers equal ours: the folder is a Qwen2 folder.
  auto model = r1lab::trainer::CausalLM::load(dir);
  std::vector<std::int64_t> ids = {10, 20, 30, 40, 50, 60};
  at::Tensor expected = transformers_logits(dir, ids, model->config().vocab_size);
  at::Tensor logits = model->logits(at::tensor(ids).view({1, -1}), at::ones({1, static_cast<std::int64_t>(ids.size())}, at::kLong));
  EXPECT_LT((logits - expected).abs().max().item<double>(), 1e-4);
}

}  // namespace
