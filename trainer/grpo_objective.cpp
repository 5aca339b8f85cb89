#include "trainer/grpo_objective.h"

#include <stdexcept>

namespace r1lab::trainer {

RewardScaling reward_scaling_from_name(const std::string& name) {
  if (name == "group") return RewardScaling::group;
  if (name == "batch") return RewardScaling::batch;
  if (name == "none") return RewardScaling::none;
  throw std::invalid_argument("unknown reward scaling '" + name + "'; use group, batch or none");
}

KlEstimator kl_estimator_from_name(const std::string& name) {
  if (name == "k1") return KlEstimator::k1;
  if (name == "k2") return KlEstimator::k2;
  if (name == "k3") return KlEstimator::k3;
  throw std::invalid_argument("unknown KL estimator '" + name + "'; use k1, k2 or k3");
}

LossAggregation loss_aggregation_from_name(const std::string& name) {
  if (name == "token-mean") return LossAggregation::token_mean;
  if (name == "seq-mean-token-mean") return LossAggregation::sequence_mean_token_mean;
  if (name == "seq-mean-token-sum") return LossAggregation::sequence_mean_token_sum;
  if (name == "constant") return LossAggregation::constant;
  throw std::invalid_argument("unknown loss aggregation '" + name +
                              "'; use token-mean, seq-mean-token-mean, seq-mean-token-sum or constant");
}

namespace {

at::Tensor grouped(const at::Tensor& rewards, std::int64_t group_size) {
  if (rewards.dim() != 1 || group_size < 1 || rewards.size(0) % group_size != 0)
    throw std::invalid_argument("rewards must be (N,) with N a multiple of the group size " + std::to_string(group_size));
  return rewards.to(at::kFloat).view({-1, group_size});
}

}  // namespace

at::Tensor group_advantages(const at::Tensor& rewards, std::int64_t group_size, RewardScaling scaling) {
  at::Tensor groups = grouped(rewards, group_size);
  at::Tensor centred = (groups - groups.mean(1, /*keepdim=*/true)).reshape(-1);
  switch (scaling) {
    case RewardScaling::group: {
      // A group of one has no spread: its std is taken as 0 (the advantage is 0 anyway).
      at::Tensor std = group_size > 1 ? groups.std(1, /*unbiased=*/true, /*keepdim=*/true) : at::zeros_like(groups);
      return centred / (std.expand_as(groups).reshape(-1) + 1e-4);
    }
    case RewardScaling::batch: {
      at::Tensor flat = groups.reshape(-1);
      at::Tensor std = flat.numel() > 1 ? flat.std(/*unbiased=*/true) : at::zeros({}, flat.options());
      return centred / (std + 1e-4);
    }
    case RewardScaling::none:
      return centred;
  }
  return centred;
}

at::Tensor zero_std_groups(const at::Tensor& rewards, std::int64_t group_size) {
  at::Tensor groups = grouped(rewards, group_size);
  return std::get<0>(groups.max(1)) == std::get<0>(groups.min(1));
}

at::Tensor kl_estimate(const at::Tensor& logprobs, const at::Tensor& reference_logprobs, KlEstimator estimator,
                       double k3_clamp) {
  at::Tensor d = reference_logprobs.to(at::kFloat) - logprobs.to(at::kFloat);
  switch (estimator) {
    case KlEstimator::k1:
      return -d;
    case KlEstimator::k2:
      return 0.5 * d * d;
    case KlEstimator::k3:
      return (at::exp(d) - d - 1).clamp(-k3_clamp, k3_clamp);
  }
  return -d;
}

at::Tensor aggregation_weights(const at::Tensor& mask, LossAggregation aggregation, const StepTotals& totals) {
  at::Tensor m = mask.to(at::kFloat);
  if (totals.sequences <= 0) throw std::invalid_argument("aggregation needs the step's sequence count");
  switch (aggregation) {
    case LossAggregation::token_mean:
      return m / std::max(totals.tokens, 1.0);
    case LossAggregation::sequence_mean_token_mean:
      return m / m.sum(1, /*keepdim=*/true).clamp_min(1.0) / totals.sequences;
    case LossAggregation::sequence_mean_token_sum:
      return m / totals.sequences;
    case LossAggregation::constant:
      if (totals.max_new_tokens <= 0) throw std::invalid_argument("the constant aggregation needs max new tokens");
      return m / (totals.sequences * totals.max_new_tokens);
  }
  return m;
}

ObjectiveTerms grpo_objective(const at::Tensor& logprobs, const at::Tensor& old_logprobs,
                              const at::Tensor& reference_logprobs, const at::Tensor& advantages,
                              const at::Tensor& weights, const ObjectiveSettings& settings) {
  ObjectiveTerms terms;
  at::Tensor logp = logprobs.to(at::kFloat);
  at::Tensor ratio = at::exp(logp - old_logprobs.to(at::kFloat));
  at::Tensor advantage = advantages.to(at::kFloat).unsqueeze(1);
  at::Tensor clipped = ratio.clamp(1 - settings.epsilon_low, 1 + settings.epsilon_high);
  at::Tensor per_token = -at::min(ratio * advantage, clipped * advantage);
  if (settings.beta != 0) {
    if (!reference_logprobs.defined()) throw std::invalid_argument("beta > 0 needs the reference model's logprobs");
    at::Tensor kl = kl_estimate(logp, reference_logprobs, settings.kl);
    per_token = per_token + settings.beta * kl;
    terms.kl = kl.detach();
  }
  terms.loss = (per_token * weights).sum();
  terms.per_token_loss = per_token;
  terms.ratio = ratio.detach();
  terms.low_clipped = (terms.ratio < 1 - settings.epsilon_low).logical_and(advantage < 0);
  terms.high_clipped = (terms.ratio > 1 + settings.epsilon_high).logical_and(advantage > 0);
  return terms;
}

}  // namespace r1lab::trainer
