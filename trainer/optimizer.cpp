#include "trainer/optimizer.h"

#include <ATen/core/grad_mode.h>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace r1lab::trainer {

AdamW::AdamW(at::Tensor master, std::int64_t begin, std::int64_t decayed_numel, AdamWSettings settings)
    : master_(std::move(master)), settings_(settings) {
  exp_avg_ = at::zeros_like(master_);
  exp_avg_sq_ = at::zeros_like(master_);
  decayed_ = std::clamp<std::int64_t>(decayed_numel - begin, 0, master_.numel());
}

void AdamW::step(const at::Tensor& grad, double lr) {
  at::NoGradGuard no_grad;
  ++steps_;
  const AdamWSettings& s = settings_;
  if (s.weight_decay != 0 && decayed_ > 0) master_.narrow(0, 0, decayed_).mul_(1 - lr * s.weight_decay);
  exp_avg_.lerp_(grad, 1 - s.beta1);
  exp_avg_sq_.mul_(s.beta2).addcmul_(grad, grad, 1 - s.beta2);
  const double bias_correction1 = 1 - std::pow(s.beta1, static_cast<double>(steps_));
  const double bias_correction2 = 1 - std::pow(s.beta2, static_cast<double>(steps_));
  const double step_size = lr / bias_correction1;
  at::Tensor denom = (exp_avg_sq_.sqrt() / std::sqrt(bias_correction2)).add_(s.eps);
  master_.addcdiv_(exp_avg_, denom, -step_size);
}

double lr_multiplier(const std::string& schedule, std::int64_t step, std::int64_t warmup, std::int64_t total) {
  if (step < warmup) return static_cast<double>(step) / static_cast<double>(std::max<std::int64_t>(1, warmup));
  if (schedule == "constant") return 1.0;
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max<std::int64_t>(1, total - warmup));
  if (schedule == "cosine") return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
  if (schedule == "linear") return std::max(0.0, static_cast<double>(total - step) / static_cast<double>(std::max<std::int64_t>(1, total - warmup)));
  throw std::invalid_argument("unknown learning-rate schedule '" + schedule + "'");
}

double clip_factor(double norm, double max_norm) {
  if (max_norm <= 0) return 1.0;
  return std::min(1.0, max_norm / (norm + 1e-6));
}

}  // namespace r1lab::trainer
