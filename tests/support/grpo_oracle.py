"""The reference for r1lab's GRPO objective (trainer/grpo_objective.h): the same quantities computed with
PyTorch the way TRL's GRPOTrainer computes them (trl/trainer/grpo_trainer.py, _generate_and_score_completions
for the advantages and _compute_loss for the loss), one micro-batch holding the whole step.

  grpo_oracle.py IN.json OUT.json

IN.json: logprobs, old_logprobs, ref_logprobs, mask (B x T lists), rewards (B), group_size, max_new_tokens,
and cases: a list of {scale_rewards: group|batch|none, kl: k1|k2|k3, loss_type: grpo|bnpo|dr_grpo|
seq_mean_token_sum, beta, epsilon_low, epsilon_high}.
OUT.json: one entry per case: advantages (B), loss, grad (d loss / d logprobs, B x T), low_clip and
high_clip (the fraction of masked tokens clipped on each side, as TRL logs clip_ratio/low_mean and
high_mean), kl_mean (masked token mean of the KL estimate; 0 when beta is 0).
TRL has k3 only; k1 and k2 follow their definitions (Schulman, "Approximating KL divergence"), and
seq_mean_token_sum is verl's aggregation (TRL's luspo sums the same way).
"""
import json
import sys

import torch


def nanstd(tensor):
    # TRL's nanstd: the Bessel-corrected standard deviation.
    variance = torch.nanmean((tensor - torch.nanmean(tensor, keepdim=True)) ** 2)
    count = torch.sum(~torch.isnan(tensor))
    return torch.sqrt(variance * (count / (count - 1)))


def advantages_of(rewards, group_size, scale_rewards):
    grouped = rewards.view(-1, group_size)
    mean_grouped = grouped.mean(dim=1).repeat_interleave(group_size, dim=0)
    advantages = rewards - mean_grouped
    if scale_rewards == "group":
        std = torch.stack([nanstd(row) for row in grouped]).repeat_interleave(group_size, dim=0)
    elif scale_rewards == "batch":
        std = nanstd(rewards).expand_as(rewards)
    else:
        std = None
    if std is not None:
        advantages = advantages / (std + 1e-4)
    return advantages


def kl_of(per_token_logps, ref_per_token_logps, kind):
    if kind == "k3":
        return torch.exp(ref_per_token_logps - per_token_logps) - (ref_per_token_logps - per_token_logps) - 1
    if kind == "k2":
        return 0.5 * (per_token_logps - ref_per_token_logps) ** 2
    return per_token_logps - ref_per_token_logps


def run_case(data, case):
    per_token_logps = torch.tensor(data["logprobs"], dtype=torch.float32, requires_grad=True)
    old_per_token_logps = torch.tensor(data["old_logprobs"], dtype=torch.float32)
    ref_per_token_logps = torch.tensor(data["ref_logprobs"], dtype=torch.float32)
    mask = torch.tensor(data["mask"], dtype=torch.float32)
    rewards = torch.tensor(data["rewards"], dtype=torch.float32)
    advantages = advantages_of(rewards, data["group_size"], case["scale_rewards"]).unsqueeze(1)

    coef_1 = torch.exp(per_token_logps - old_per_token_logps)
    coef_2 = torch.clamp(coef_1, 1 - case["epsilon_low"], 1 + case["epsilon_high"])
    per_token_loss = -torch.min(coef_1 * advantages, coef_2 * advantages)
    per_token_kl = kl_of(per_token_logps, ref_per_token_logps, case["kl"])
    if case["beta"] != 0.0:
        per_token_loss = per_token_loss + case["beta"] * per_token_kl

    loss_type = case["loss_type"]
    if loss_type == "grpo":
        loss = ((per_token_loss * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token_loss * mask).sum() / mask.sum().clamp(min=1.0)
    elif loss_type == "dr_grpo":
        loss = (per_token_loss * mask).sum() / (per_token_loss.size(0) * data["max_new_tokens"])
    elif loss_type == "seq_mean_token_sum":
        loss = (per_token_loss * mask).sum(-1).mean()
    else:
        raise ValueError(loss_type)
    loss.backward()

    def masked_mean(values):
        return float((values * mask).sum() / mask.sum())

    is_low_clipped = (coef_1 < 1 - case["epsilon_low"]) & (advantages < 0)
    is_high_clipped = (coef_1 > 1 + case["epsilon_high"]) & (advantages > 0)
    return {
        "advantages": advantages.squeeze(1).tolist(),
        "loss": float(loss),
        "grad": per_token_logps.grad.tolist(),
        "low_clip": masked_mean(is_low_clipped.float()),
        "high_clip": masked_mean(is_high_clipped.float()),
        "kl_mean": masked_mean(per_token_kl.detach()) if case["beta"] != 0.0 else 0.0,
    }


def main():
    torch.set_num_threads(1)
    with open(sys.argv[1]) as handle:
        data = json.load(handle)
    results = [run_case(data, case) for case in data["cases"]]
    with open(sys.argv[2], "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
