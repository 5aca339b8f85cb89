// GRPO's objective (trainer/grpo_objective.h) against the same formulas computed with PyTorch as TRL's
// GRPOTrainer computes them (tests/support/grpo_oracle.py), for every advantage scaling, KL estimator and
// aggregation; and the properties users trip over: equal rewards teach nothing, the first update after a
// rollout has a ratio of exactly 1 and a loss of beta·KL with a gradient that is not zero, and micro-batches
// add up to the whole step.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/tiny_models.h"
#include "trainer/grpo_objective.h"

namespace r1lab::trainer {
namespace {

using r1lab::testing::run_python_oracle;
using r1lab::testing::work_folder;

// Two prompts x G = 4 samples, up to 6 completion tokens each; logprobs near a rollout's, with some
// ratios outside [0.8, 1.28] so that both clips engage.
struct Batch {
  at::Tensor logprobs, old_logprobs, ref_logprobs, mask, rewards;
  std::int64_t group_size = 4;
  double max_new_tokens = 8;
};

Batch make_batch() {
  at::manual_seed(11);
  Batch b;
  b.old_logprobs = -at::rand({8, 6}, at::kFloat) * 3 - 0.05;
  b.logprobs = b.old_logprobs + at::randn({8, 6}, at::kFloat) * 0.3;
  b.ref_logprobs = b.old_logprobs + at::randn({8, 6}, at::kFloat) * 0.5;
  b.mask = at::ones({8, 6}, at::kFloat);
  const std::int64_t lengths[8] = {6, 3, 5, 1, 6, 2, 4, 6};
  for (int i = 0; i < 8; ++i) b.mask[i].narrow(0, lengths[i], 6 - lengths[i]).zero_();
  b.rewards = at::tensor({1.0f, 0.0f, 0.0f, 1.0f, 0.5f, 0.0f, 1.2f, 0.1f});
  return b;
}

nlohmann::json to_json(const at::Tensor& t) {
  at::Tensor c = t.contiguous().to(at::kDouble);
  if (c.dim() == 1) return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  nlohmann::json rows = nlohmann::json::array();
  for (std::int64_t i = 0; i < c.size(0); ++i) rows.push_back(to_json(c[i]));
  return rows;
}

at::Tensor from_json(const nlohmann::json& j) {
  std::vector<float> flat;
  std::int64_t rows = 0;
  if (j.is_array() && !j.empty() && j[0].is_array()) {
    for (const auto& row : j) {
      for (double v : row) flat.push_back(static_cast<float>(v));
      ++rows;
    }
    return at::tensor(flat).view({rows, -1});
  }
  for (double v : j) flat.push_back(static_cast<float>(v));
  return at::tensor(flat);
}

struct Mode {
  std::string scale, kl, aggregation, trl_loss_type;
  double beta, epsilon_low, epsilon_high;
};

double max_difference(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(GrpoObjective, EveryModeEqualsThePyTorchReference) {
  Batch b = make_batch();
  std::vector<Mode> modes;
  const std::vector<std::pair<std::string, std::string>> aggregations = {
      {"seq-mean-token-mean", "grpo"}, {"token-mean", "bnpo"}, {"constant", "dr_grpo"}, {"seq-mean-token-sum", "seq_mean_token_sum"}};
  for (std::string scale : {"group", "batch", "none"})
    for (std::string kl : {"k1", "k2", "k3"})
      for (const auto& [aggregation, trl] : aggregations)
        modes.push_back({scale, kl, aggregation, trl, kl == "k1" && scale == "none" ? 0.0 : 0.04, 0.2, 0.28});
  nlohmann::json in = {{"logprobs", to_json(b.logprobs)}, {"old_logprobs", to_json(b.old_logprobs)},
                       {"ref_logprobs", to_json(b.ref_logprobs)}, {"mask", to_json(b.mask)},
                       {"rewards", to_json(b.rewards)}, {"group_size", b.group_size}, {"max_new_tokens", b.max_new_tokens},
                       {"cases", nlohmann::json::array()}};
  for (const auto& m : modes)
    in["cases"].push_back({{"scale_rewards", m.scale}, {"kl", m.kl}, {"loss_type", m.trl_loss_type}, {"beta", m.beta},
                           {"epsilon_low", m.epsilon_low}, {"epsilon_high", m.epsilon_high}});
  auto in_file = work_folder() / "grpo_in.json", out_file = work_folder() / "grpo_out.json";
  std::ofstream(in_file) << in.dump();
  run_python_oracle("grpo_oracle.py", {in_file.string(), out_file.string()});
  auto reference = nlohmann::json::parse(std::ifstream(out_file));
  ASSERT_EQ(reference.size(), modes.size());

  StepTotals totals{8, b.mask.sum().item<double>(), b.max_new_tokens};
  for (std::size_t i = 0; i < modes.size(); ++i) {
    const Mode& m = modes[i];
    const std::string name = m.scale + "/" + m.kl + "/" + m.aggregation;
    at::Tensor advantages = group_advantages(b.rewards, b.group_size, reward_scaling_from_name(m.scale));
    EXPECT_LT(max_difference(advantages, from_json(reference[i]["advantages"])), 1e-6) << name;
    at::Tensor logprobs = b.logprobs.clone().requires_grad_(true);
    ObjectiveSettings settings{m.epsilon_low, m.epsilon_high, m.beta, kl_estimator_from_name(m.kl)};
    auto terms = grpo_objective(logprobs, b.old_logprobs, b.ref_logprobs, advantages,
                                aggregation_weights(b.mask, loss_aggregation_from_name(m.aggregation), totals), settings);
    terms.loss.backward();
    EXPECT_NEAR(terms.loss.item<double>(), reference[i]["loss"].get<double>(), 1e-6) << name;
    EXPECT_LT(max_difference(logprobs.grad() * b.mask, from_json(reference[i]["grad"]) * b.mask), 1e-6) << name;
    const double tokens = b.mask.sum().item<double>();
    EXPECT_NEAR((terms.low_clipped.to(at::kFloat) * b.mask).sum().item<double>() / tokens, reference[i]["low_clip"].get<double>(), 1e-6) << name;
    EXPECT_NEAR((terms.high_clipped.to(at::kFloat) * b.mask).sum().item<double>() / tokens, reference[i]["high_clip"].get<double>(), 1e-6) << name;
    if (m.beta != 0) {
      EXPECT_NEAR((terms.kl * b.mask).sum().item<double>() / tokens, reference[i]["kl_mean"].get<double>(), 1e-6) << name;
    }
  }
  // The batch exercises both clips (else the comparison above proves less than it seems).
  auto terms = grpo_objective(b.logprobs, b.old_logprobs, {}, group_advantages(b.rewards, 4, RewardScaling::group),
                              aggregation_weights(b.mask, LossAggregation::token_mean, totals), ObjectiveSettings{0.2, 0.28});
  EXPECT_GT((terms.low_clipped.to(at::kFloat) * b.mask).sum().item<double>(), 0);
  EXPECT_GT((terms.high_clipped.to(at::kFloat) * b.mask).sum().item<double>(), 0);
}

TEST(GrpoObjective, EqualRewardsInAGroupGiveNoGradient) {
  Batch b = make_batch();
  b.rewards = at::tensor({1.0f, 1.0f, 1.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f});
  EXPECT_TRUE(zero_std_groups(b.rewards, 4).all().item<bool>());
  for (auto scaling : {RewardScaling::group, RewardScaling::batch, RewardScaling::none}) {
    at::Tensor advantages = group_advantages(b.rewards, 4, scaling);
    EXPECT_EQ(advantages.abs().max().item<double>(), 0.0);
    at::Tensor logprobs = b.logprobs.clone().requires_grad_(true);
    auto terms = grpo_objective(logprobs, b.old_logprobs, {}, advantages,
                                aggregation_weights(b.mask, LossAggregation::token_mean, {8, b.mask.sum().item<double>(), 8}),
                                ObjectiveSettings{});
    terms.loss.backward();
    EXPECT_EQ(logprobs.grad().abs().max().item<double>(), 0.0);
  }
}

TEST(GrpoObjective, OneUpdatePerRolloutHasRatioOneLossBetaKlAndAGradient) {
  Batch b = make_batch();
  at::Tensor logprobs = b.logprobs.clone().requires_grad_(true);
  at::Tensor advantages = group_advantages(b.rewards, 4, RewardScaling::group);
  at::Tensor weights = aggregation_weights(b.mask, LossAggregation::token_mean, {8, b.mask.sum().item<double>(), 8});
  ObjectiveSettings settings;
  settings.beta = 0.04;
  auto terms = grpo_objective(logprobs, logprobs.detach(), b.ref_logprobs, advantages, weights, settings);
  EXPECT_EQ(terms.ratio.sub(1).abs().max().item<double>(), 0.0);
  // The surrogate's value is −Σ w·A, which is 0 only in expectation, so the loss is beta·KL plus that term;
  // with the advantages centred per sequence-weighted token it is not exactly zero: compare the pieces.
  const double surrogate = -(weights * advantages.unsqueeze(1)).sum().item<double>();
  const double kl = (weights * kl_estimate(b.logprobs, b.ref_logprobs, KlEstimator::k3)).sum().item<double>();
  EXPECT_NEAR(terms.loss.item<double>(), surrogate + settings.beta * kl, 1e-6);
  terms.loss.backward();
  EXPECT_GT(logprobs.grad().abs().max().item<double>(), 1e-3);   // the policy gradient is there
  // With a sequence-level aggregation over centred advantages the surrogate's value vanishes: the loss is beta·KL.
  at::Tensor sequence_weights = aggregation_weights(b.mask, LossAggregation::sequence_mean_token_mean, {8, 0, 8});
  auto mean_terms = grpo_objective(logprobs, logprobs.detach(), b.ref_logprobs, advantages, sequence_weights, settings);
  const double kl_mean = (sequence_weights * kl_estimate(b.logprobs, b.ref_logprobs, KlEstimator::k3)).sum().item<double>();
  EXPECT_NEAR(mean_terms.loss.item<double>(), settings.beta * kl_mean, 1e-6);
}

TEST(GrpoObjective, MicroBatchesAddUpToTheWholeStep) {
  Batch b = make_batch();
  at::Tensor advantages = group_advantages(b.rewards, 4, RewardScaling::group);
  ObjectiveSettings settings{0.2, 0.28, 0.04};
  for (auto aggregation : {LossAggregation::token_mean, LossAggregation::sequence_mean_token_mean,
                           LossAggregation::sequence_mean_token_sum, LossAggregation::constant}) {
    StepTotals totals{8, b.mask.sum().item<double>(), 8};
    at::Tensor whole = b.logprobs.clone().requires_grad_(true);
    auto all = grpo_objective(whole, b.old_logprobs, b.ref_logprobs, advantages, aggregation_weights(b.mask, aggregation, totals), settings);
    all.loss.backward();
    at::Tensor parts = b.logprobs.clone().requires_grad_(true);
    double summed = 0;
    for (auto [from, count] : {std::pair<int, int>{0, 3}, {3, 5}}) {
      auto slice = [&](const at::Tensor& t) { return t.narrow(0, from, count); };
      auto part = grpo_objective(slice(parts), slice(b.old_logprobs), slice(b.ref_logprobs), slice(advantages),
                                 aggregation_weights(slice(b.mask), aggregation, totals), settings);
      part.loss.backward();
      summed += part.loss.item<double>();
    }
    EXPECT_NEAR(summed, all.loss.item<double>(), 1e-6);
    EXPECT_LT(max_difference(parts.grad(), whole.grad()), 1e-7);
  }
}

TEST(GrpoObjective, NamesAndBadInputAreClearErrors) {
  EXPECT_THROW(reward_scaling_from_name("mean"), std::invalid_argument);
  EXPECT_THROW(kl_estimator_from_name("k4"), std::invalid_argument);
  EXPECT_THROW(loss_aggregation_from_name("tokens"), std::invalid_argument);
  EXPECT_THROW(group_advantages(at::ones({6}), 4, RewardScaling::group), std::invalid_argument);
  Batch b = make_batch();
  ObjectiveSettings settings;
  settings.beta = 0.1;
  EXPECT_THROW(grpo_objective(b.logprobs, b.old_logprobs, {}, at::zeros({8}), b.mask, settings), std::invalid_argument);
}

}  // namespace
}  // namespace r1lab::trainer
