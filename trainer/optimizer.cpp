#include "trainer/optimizer.h"

#include <ATen/core/grad_mode.h>
#include <algorithm>
#include <cmath>
#include <numbers>
#include <tuple>
#include <stdexcept>

namespace r1lab::trainer {

AdamW::AdamW(at::Tensor master, std::int64_t begin, std::int64_t decayed_numel, AdamWSettings settings)
    : master_(std::move(master)), settings_(settings) {
  exp_avg_ = at::zeros_like(master_);
  exp_avg_sq_ = at::zeros_like(master_);
  decayed_ = std::clamp<std::int64_t>(decayed_numel - begin, 0, master_.numel());
}

void AdamW::step(const at::Tensor& grad, double lr, double grad_scale) {
  at::NoGradGuard no_grad;
  ++steps_;
  const AdamWSettings& s = settings_;
  const double bias_correction1 = 1 - std::pow(s.beta1, static_cast<double>(steps_));
  const double bias_correction2 = 1 - std::pow(s.beta2, static_cast<double>(steps_));
  const double step_size = lr / bias_correction1;
  // 64 Mi elements: 256 MiB per fp32 temporary. A multiple of every vector width, so each chunk is
  // computed exactly as the same elements of one whole-tensor pass would be.
  constexpr std::int64_t kChunk = std::int64_t{1} << 26;
  const std::int64_t n = master_.numel();
  const bool fused = s.kernel == AdamWKernel::fused || (s.kernel == AdamWKernel::automatic && master_.is_cuda());
  if (fused) {
    // The kernel reads the step count from a tensor (torch.optim increments it before the call, as here).
    at::Tensor step = at::full({}, static_cast<double>(steps_), master_.options());
    for (std::int64_t begin = 0; begin < n; begin += kChunk) {
      const std::int64_t length = std::min(kChunk, n - begin);
      at::Tensor g = grad.narrow(0, begin, length).to(at::kFloat);
      if (grad_scale != 1.0) g = g * grad_scale;
      // Decay stops at decayed_: the chunk's decayed part and the rest are two calls.
      const std::int64_t decayed = std::clamp<std::int64_t>(decayed_ - begin, 0, length);
      for (auto [from, count, decay] : {std::tuple{std::int64_t{0}, decayed, s.weight_decay}, std::tuple{decayed, length - decayed, 0.0}}) {
        if (count == 0) continue;
        at::_fused_adamw_({master_.narrow(0, begin + from, count)}, {g.narrow(0, from, count)},
                          {exp_avg_.narrow(0, begin + from, count)}, {exp_avg_sq_.narrow(0, begin + from, count)}, {}, {step}, lr,
                          s.beta1, s.beta2, decay, s.eps, /*amsgrad=*/false, /*maximize=*/false);
      }
    }
    return;
  }
  for (std::int64_t begin = 0; begin < n; begin += kChunk) {
    const std::int64_t length = std::min(kChunk, n - begin);
    at::Tensor master = master_.narrow(0, begin, length), m = exp_avg_.narrow(0, begin, length), v = exp_avg_sq_.narrow(0, begin, length);
    at::Tensor g = grad.narrow(0, begin, length).to(at::kFloat);
    if (grad_scale != 1.0) g = g * grad_scale;
    const std::int64_t decayed = std::clamp<std::int64_t>(decayed_ - begin, 0, length);
    if (s.weight_decay != 0 && decayed > 0) master.narrow(0, 0, decayed).mul_(1 - lr * s.weight_decay);
    m.lerp_(g, 1 - s.beta1);
    v.mul_(s.beta2).addcmul_(g, g, 1 - s.beta2);
    at::Tensor denom = (v.sqrt() / std::sqrt(bias_correction2)).add_(s.eps);
    master.addcdiv_(m, denom, -step_size);
  }
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
