// trainer/optimizer.h — AdamW on the flat parameter buffer, the learning-rate schedule, and global
// gradient-norm clipping, with the arithmetic of torch.optim.AdamW (single-tensor path),
// transformers' get_*_schedule_with_warmup and torch.nn.utils.clip_grad_norm_, so that a run agrees
// with a TRL/transformers run step for step.
//
// The optimizer owns fp32 master weights and moments for a range of the flat buffer (all of it, or one
// rank's shard under ZeRO-1). Decoupled weight decay applies to the elements below decayed_numel (the
// parameter table puts matrices first, norms and biases after).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace r1lab::trainer {

// automatic: ATen's fused AdamW kernel (torch.optim.AdamW(fused=True)) on CUDA, where the unfused update
// is about ten passes over the fp32 state; the single-tensor arithmetic elsewhere (it agrees with
// TRL/transformers runs step for step on the CPU). Both compute the same update to fp32 rounding.
enum class AdamWKernel { automatic, single_tensor, fused };

struct AdamWSettings {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  AdamWKernel kernel = AdamWKernel::automatic;
};

class AdamW {
 public:
  // `master`: the fp32 weights this optimizer updates (elements [begin, begin + numel) of the flat
  // buffer); `decayed_numel`: where decay stops, in flat-buffer elements.
  AdamW(at::Tensor master, std::int64_t begin, std::int64_t decayed_numel, AdamWSettings settings);
  // One update with `grad` (same size as master; fp32, or the model's bf16 gradient) multiplied by
  // `grad_scale` (the clipping factor), at learning rate `lr`. It runs over chunks, so the fp32
  // temporaries (the gradient's fp32 copy, Adam's denominator) stay small however large the shard is;
  // every operation is elementwise, so the result is the same as one pass.
  void step(const at::Tensor& grad, double lr, double grad_scale = 1.0);

  at::Tensor& master() { return master_; }
  at::Tensor& exp_avg() { return exp_avg_; }
  at::Tensor& exp_avg_sq() { return exp_avg_sq_; }
  std::int64_t steps() const { return steps_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }

 private:
  at::Tensor master_, exp_avg_, exp_avg_sq_;
  std::int64_t decayed_ = 0;   // elements of master_ that decay (a prefix)
  AdamWSettings settings_;
  std::int64_t steps_ = 0;
};

// The multiplier of the peak learning rate for update number `step` (0-based) of `total`:
// linear warmup from 0 over `warmup` steps, then cosine to 0, constant, or linear to 0.
double lr_multiplier(const std::string& schedule, std::int64_t step, std::int64_t warmup, std::int64_t total);

// Scales `grad` so that its norm is at most max_norm (clip_grad_norm_'s rule: factor
// max_norm / (norm + 1e-6), capped at 1). `norm` is the global norm (all ranks). Returns the factor.
double clip_factor(double norm, double max_norm);

}  // namespace r1lab::trainer
