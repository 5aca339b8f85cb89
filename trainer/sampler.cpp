#include "trainer/sampler.h"

#include <algorithm>

namespace r1lab::trainer {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Picks from probabilities sorted in descending order (row, k) with token ids `order`, after top-k and
// top-p truncation: the first rank whose cumulative kept mass exceeds u times the total.
std::int64_t pick(const float* sorted_probs, const std::int64_t* order, std::int64_t k, const RowSampling& s, double u) {
  std::int64_t limit = k;
  if (s.top_k > 0) limit = std::min(limit, s.top_k);
  double kept_total = 0;
  for (std::int64_t i = 0; i < limit; ++i) kept_total += sorted_probs[i];
  if (s.top_p < 1.0) {
    // Mass of the top-k set is renormalised first (top-k masks before top-p's softmax).
    double mass_before = 0;
    std::int64_t i = 0;
    for (; i < limit; ++i) {
      if (mass_before / kept_total >= s.top_p) break;   // everything before already reaches p
      mass_before += sorted_probs[i];
    }
    limit = std::max<std::int64_t>(i, 1);
    kept_total = 0;
    for (std::int64_t j = 0; j < limit; ++j) kept_total += sorted_probs[j];
  }
  double target = u * kept_total, cumulative = 0;
  for (std::int64_t i = 0; i < limit; ++i) {
    cumulative += sorted_probs[i];
    if (cumulative > target) return order[i];
  }
  return order[limit - 1];
}

}  // namespace

double sample_uniform(std::uint64_t seed, std::uint64_t step) {
  std::uint64_t bits = splitmix64(splitmix64(seed) ^ (step * 0xD1B54A32D192ED03ull));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

SampledTokens sample_next_tokens(const at::Tensor& logits_in, const std::vector<RowSampling>& rows,
                                 const std::vector<std::uint64_t>& steps, std::int64_t candidates) {
  const std::int64_t R = logits_in.size(0), V = logits_in.size(1);
  at::Tensor logits = logits_in.to(at::kFloat);
  at::Tensor logprobs_all = at::log_softmax(logits, -1);
  SampledTokens out;
  out.tokens.resize(static_cast<std::size_t>(R));
  out.logprobs.resize(static_cast<std::size_t>(R));

  std::vector<double> temperature(static_cast<std::size_t>(R));
  for (std::int64_t r = 0; r < R; ++r) temperature[static_cast<std::size_t>(r)] = rows[static_cast<std::size_t>(r)].temperature > 0 ? rows[static_cast<std::size_t>(r)].temperature : 1.0;
  at::Tensor scaled = logits / at::tensor(temperature, logits.options().dtype(at::kDouble)).to(at::kFloat).unsqueeze(1);
  at::Tensor probs = at::softmax(scaled, -1);
  const std::int64_t k = std::min(V, candidates);
  auto [top_probs, top_ids] = probs.topk(k, -1, /*largest=*/true, /*sorted=*/true);
  at::Tensor greedy = logits.argmax(-1).to(at::kCPU);
  top_probs = top_probs.to(at::kCPU).contiguous();
  top_ids = top_ids.to(at::kCPU).contiguous();
  const float* p = top_probs.data_ptr<float>();
  const std::int64_t* ids = top_ids.data_ptr<std::int64_t>();
  const std::int64_t* greedy_ids = greedy.data_ptr<std::int64_t>();

  for (std::int64_t r = 0; r < R; ++r) {
    const RowSampling& s = rows[static_cast<std::size_t>(r)];
    std::int64_t token;
    if (s.temperature <= 0) {
      token = greedy_ids[r];
    } else {
      const float* row_probs = p + r * k;
      // The candidates cover the row when top-k fits in them, or their mass reaches top-p (and top-p is
      // on). Otherwise sort the whole row.
      double mass = 0;
      for (std::int64_t i = 0; i < k; ++i) mass += row_probs[i];
      bool covered = k == V || (s.top_k > 0 && s.top_k <= k) || (s.top_p < 1.0 && mass >= s.top_p);
      double u = sample_uniform(s.seed, steps[static_cast<std::size_t>(r)]);
      if (covered) {
        token = pick(row_probs, ids + r * k, k, s, u);
      } else if (s.top_k <= 0 && s.top_p >= 1.0) {
        // No truncation: the inverse CDF over the vocabulary in id order draws from the same distribution.
        at::Tensor row = probs[r].to(at::kCPU).contiguous();
        const float* q = row.data_ptr<float>();
        double total = 0;
        for (std::int64_t i = 0; i < V; ++i) total += q[i];
        double target = u * total, cumulative = 0;
        token = V - 1;
        for (std::int64_t i = 0; i < V; ++i) {
          cumulative += q[i];
          if (cumulative > target) { token = i; break; }
        }
      } else {
        auto [sorted, order] = probs[r].sort(-1, /*descending=*/true);
        sorted = sorted.to(at::kCPU).contiguous();
        order = order.to(at::kCPU).contiguous();
        token = pick(sorted.data_ptr<float>(), order.data_ptr<std::int64_t>(), V, s, u);
      }
    }
    out.tokens[static_cast<std::size_t>(r)] = token;
  }
  at::Tensor chosen = at::tensor(out.tokens, at::TensorOptions().dtype(at::kLong)).to(logits.device());
  at::Tensor chosen_logprobs = logprobs_all.gather(1, chosen.unsqueeze(1)).squeeze(1).to(at::kCPU).contiguous();
  std::copy_n(chosen_logprobs.data_ptr<float>(), R, out.logprobs.begin());
  return out;
}

}  // namespace r1lab::trainer
