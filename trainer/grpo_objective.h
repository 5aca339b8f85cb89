// trainer/grpo_objective.h — GRPO's objective as pure tensor functions: group advantages, the clipped
// surrogate with separate low/high epsilons, the KL estimators and the aggregation of per-token losses.
//
// The per-token loss of a sampled token t of sequence i (DeepSeekMath's equation, as TRL and verl
// compute it):
//   ratio_t  = exp(logp_t − old_logp_t)
//   loss_t   = −min(ratio_t · A_i, clip(ratio_t, 1 − eps_low, 1 + eps_high) · A_i) + beta · KL_t
// Departures from the paper's equation, all as TRL does them: the KL is an estimate per sampled token
// (k3 by default, the paper's choice), the advantage is one number per sequence, and the aggregation over
// tokens and sequences is a choice (below) rather than the paper's 1/G · Σ 1/|o_i|.
//
// Aggregations, each written as weights w_t with loss = Σ_t w_t · loss_t over the whole optimizer step, so
// that micro-batches and data-parallel ranks add up to the same number whatever the split (TRL divides
// per micro-batch, which equals this when micro-batches hold equal numbers of sequences):
//   token_mean                 w = 1 / (tokens in the step)                (DAPO; TRL "dapo"/"bnpo")
//   sequence_mean_token_mean   w = 1 / (sequences · tokens of sequence i)  (GRPO; TRL "grpo")
//   sequence_mean_token_sum    w = 1 / sequences                           (verl "seq-mean-token-sum")
//   constant                   w = 1 / (sequences · max new tokens)        (Dr. GRPO; TRL "dr_grpo")
// Everything is fp32.
#pragma once

#include <ATen/ATen.h>

#include <string>

namespace r1lab::trainer {

enum class RewardScaling { group, batch, none };
enum class KlEstimator { k1, k2, k3 };
enum class LossAggregation { token_mean, sequence_mean_token_mean, sequence_mean_token_sum, constant };

// From the flag values ("group", "k3", "token-mean", ...); std::invalid_argument lists the accepted ones.
RewardScaling reward_scaling_from_name(const std::string& name);
KlEstimator kl_estimator_from_name(const std::string& name);
LossAggregation loss_aggregation_from_name(const std::string& name);

// rewards (N,) in consecutive groups of `group_size` samples of one prompt. advantage = reward − its
// group's mean, divided by (std + 1e-4) where std is the Bessel (ddof 1) standard deviation of the group
// (`group`, GRPO), of the whole batch (`batch`, Lite-PPO) or nothing (`none`, Dr. GRPO).
at::Tensor group_advantages(const at::Tensor& rewards, std::int64_t group_size, RewardScaling scaling);

// Whether each group's rewards are all equal (its advantages are 0: it teaches nothing). (N / G,) bool.
at::Tensor zero_std_groups(const at::Tensor& rewards, std::int64_t group_size);

// Per-token estimate of KL(policy ‖ reference) from the sampled tokens' logprobs, with d = ref − logp:
// k1 = −d, k2 = d²/2, k3 = exp(d) − d − 1, clamped to [−k3_clamp, k3_clamp] (verl's guard against the
// exponential blowing up on tokens the reference finds very unlikely).
at::Tensor kl_estimate(const at::Tensor& logprobs, const at::Tensor& reference_logprobs, KlEstimator estimator,
                       double k3_clamp = 10.0);

// The weights w (B, T) of `mask` (B, T; 1 where a completion token is in the loss) for one micro-batch,
// given the step's totals over every micro-batch and rank.
struct StepTotals {
  double sequences = 0;         // sequences in the optimizer step
  double tokens = 0;            // masked-in tokens in the step
  double max_new_tokens = 0;    // the constant aggregation's length
};
at::Tensor aggregation_weights(const at::Tensor& mask, LossAggregation aggregation, const StepTotals& totals);

struct ObjectiveSettings {
  double epsilon_low = 0.2;
  double epsilon_high = 0.2;    // DAPO's clip-higher: 0.28
  double beta = 0.0;            // 0: no KL term, and no reference logprobs needed
  KlEstimator kl = KlEstimator::k3;
};

struct ObjectiveTerms {
  at::Tensor loss;              // scalar: Σ w_t · loss_t (differentiable in logprobs)
  at::Tensor per_token_loss;    // (B, T)
  at::Tensor ratio;             // (B, T), detached
  at::Tensor kl;                // (B, T), detached; undefined when beta is 0
  at::Tensor low_clipped;       // (B, T) bool: ratio < 1 − eps_low with a negative advantage
  at::Tensor high_clipped;      // (B, T) bool: ratio > 1 + eps_high with a positive advantage
};

// logprobs (B, T): the policy's, with gradient; old_logprobs (B, T): the policy's when the rollout was
// scored (equal to logprobs, detached, on the first update after a rollout: the ratio is then exactly 1
// and the loss value is beta · KL, but its gradient is the advantage-weighted policy gradient);
// reference_logprobs (B, T), only when beta > 0; advantages (B,); weights (B, T) from aggregation_weights.
ObjectiveTerms grpo_objective(const at::Tensor& logprobs, const at::Tensor& old_logprobs,
                              const at::Tensor& reference_logprobs, const at::Tensor& advantages,
                              const at::Tensor& weights, const ObjectiveSettings& settings);

}  // namespace r1lab::trainer
