// trainer/sampler.h — turns a batch of logits into next tokens, each row with its own temperature,
// top-k, top-p and seed, the way transformers' warpers define them (temperature, then top-k, then top-p;
// top-p keeps the smallest prefix of the sorted distribution whose mass reaches p, at least one token).
//
// Draws are reproducible per sample: row r's uniform number at step s is a hash of (seed_r, s), so a
// sample's text depends on its seed and its logits only, not on the batch it was run in.
// Cost: no sort of the vocabulary. A histogram of the probabilities by value (4096 buckets over their
// bit patterns) finds the bucket where the top-p mass or the top-k count is crossed, and only that
// bucket is sorted; the draw is then the inverse CDF of the kept tokens. A few passes over each row, on
// the CPU, rows in parallel; peaked and flat distributions cost the same. On a GPU the same draws are
// made on the device (SamplerPath below).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace r1lab::trainer {

struct RowSampling {
  double temperature = 1.0;   // 0: greedy
  double top_p = 1.0;
  std::int64_t top_k = 0;     // 0: off
  std::uint64_t seed = 0;
};

struct SampledTokens {
  std::vector<std::int64_t> tokens;
  std::vector<float> logprobs;            // log p of each token under the model (temperature 1, no truncation)
  std::vector<float> sampling_logprobs;   // log p under softmax(logits / T), the row's temperature (1 when greedy),
                                          // before top-k/top-p: what GRPO's old and new logprobs are compared at
};

// The uniform number in [0, 1) of a sample's step.
double sample_uniform(std::uint64_t seed, std::uint64_t step);
// The seed of sample i of a request that asked for several with one seed: one seed per sample.
std::uint64_t sample_seed(std::uint64_t request_seed, int sample);

// How the draws are computed: `host` copies the probabilities to the CPU (the histogram above: fastest on
// a CPU); `tensors` does it in tensor operations where the logits are (a sort per row), so that on a GPU
// only the chosen ids leave the device. Both draw the same tokens from the same probabilities (the same
// definitions, the same tie rule: the lower id first). `automatic`: host for CPU logits, else tensors.
enum class SamplerPath { automatic, host, tensors };

// logits: (rows, vocab), any float dtype and device. `steps[r]` is row r's draw counter.
SampledTokens sample_next_tokens(const at::Tensor& logits, const std::vector<RowSampling>& rows,
                                 const std::vector<std::uint64_t>& steps, SamplerPath path = SamplerPath::automatic);

}  // namespace r1lab::trainer
