#include "trainer/sampler.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "trainer/losses.h"

namespace r1lab::trainer {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Probabilities are non-negative floats, whose bit patterns order like their values. The top 12 bits
// (sign, exponent, 3 mantissa bits) give 4096 buckets in value order: one pass finds the bucket where
// the cumulative mass (or count) crosses a bound, and only that bucket needs sorting.
constexpr int kBucketShift = 20;
constexpr std::size_t kBuckets = std::size_t{1} << (32 - kBucketShift);

std::uint32_t bucket_of(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits >> kBucketShift;
}

struct Histogram {
  std::array<double, kBuckets> mass{};
  std::array<std::uint32_t, kBuckets> count{};
};

// Draws from probabilities q[0..V) (softmax at the row's temperature) after top-k and top-p, exactly
// as transformers defines them: top-k keeps the k largest; top-p then keeps the smallest prefix of the
// (top-k renormalised) descending order whose mass reaches p, at least one token. The draw is the inverse
// CDF of the kept tokens at u, in id order: the distribution is the truncated one whatever the order.
std::int64_t draw(const float* q, std::int64_t V, const RowSampling& s, double u, Histogram& h,
                  std::vector<std::pair<float, std::int64_t>>& scratch) {
  std::fill(h.mass.begin(), h.mass.end(), 0.0);
  std::fill(h.count.begin(), h.count.end(), 0u);
  double total = 0;
  for (std::int64_t i = 0; i < V; ++i) {
    std::uint32_t b = bucket_of(q[i]);
    h.mass[b] += q[i];
    h.count[b] += 1;
    total += q[i];
  }
  const bool top_k_on = s.top_k > 0 && s.top_k < V;
  const bool top_p_on = s.top_p < 1.0;
  if (!top_k_on && !top_p_on) {
    double target = u * total, cumulative = 0;
    for (std::int64_t i = 0; i < V; ++i) {
      cumulative += q[i];
      if (cumulative > target) return i;
    }
    return V - 1;
  }

  if (top_k_on) {
    // The k largest: whole buckets from the top, then the largest of the bucket that crosses k.
    std::size_t boundary = kBuckets - 1;
    std::int64_t above = 0;
    while (above + h.count[boundary] < s.top_k) above += h.count[boundary--];
    scratch.clear();
    for (std::int64_t i = 0; i < V; ++i) {
      if (bucket_of(q[i]) >= boundary) scratch.emplace_back(q[i], i);
    }
    // Ties by the lower id: the rule the device path (a stable sort) keeps as well.
    auto larger = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    std::nth_element(scratch.begin(), scratch.begin() + (s.top_k - 1), scratch.end(), larger);
    scratch.resize(static_cast<std::size_t>(s.top_k));
    std::sort(scratch.begin(), scratch.end(), larger);
    double kept_total = 0;
    for (const auto& e : scratch) kept_total += e.first;
    std::size_t limit = scratch.size();
    if (top_p_on) {
      double before = 0;
      std::size_t i = 0;
      for (; i < scratch.size(); ++i) {
        if (before / kept_total >= s.top_p) break;
        before += scratch[i].first;
      }
      limit = std::max<std::size_t>(i, 1);
    }
    double nucleus = 0;
    for (std::size_t i = 0; i < limit; ++i) nucleus += scratch[i].first;
    // Inverse CDF in id order over the kept tokens.
    std::sort(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(limit), [](const auto& a, const auto& b) { return a.second < b.second; });
    double target = u * nucleus, cumulative = 0;
    for (std::size_t i = 0; i < limit; ++i) {
      cumulative += scratch[i].first;
      if (cumulative > target) return scratch[i].second;
    }
    return scratch[limit - 1].second;
  }

  // Top-p alone. Buckets above the one where the descending mass reaches p are wholly kept, buckets
  // below it wholly dropped; the crossing bucket is sorted and kept while the mass before a token is < p.
  const double bound = s.top_p * total;
  std::size_t boundary = kBuckets - 1;
  double above = 0;
  while (boundary > 0 && (h.count[boundary] == 0 || above + h.mass[boundary] < bound)) above += h.mass[boundary--];
  scratch.clear();
  for (std::int64_t i = 0; i < V; ++i) {
    if (bucket_of(q[i]) == boundary) scratch.emplace_back(q[i], i);
  }
  std::sort(scratch.begin(), scratch.end(), [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  double before = above;
  std::size_t taken = 0;
  while (taken < scratch.size() && (before < bound || (taken == 0 && above == 0))) before += scratch[taken++].first;
  // The smallest kept value; ties with it inside the bucket are decided by the sort.
  const float threshold = taken > 0 ? scratch[taken - 1].first : 0.0f;
  // Kept: every token in a higher bucket, and the first `taken` of the crossing bucket. Tokens of the
  // crossing bucket equal to the threshold but beyond `taken` are dropped by counting them off.
  std::size_t threshold_ties_kept = 0;
  for (std::size_t i = 0; i < taken; ++i) threshold_ties_kept += scratch[i].first == threshold ? 1 : 0;
  const double nucleus = before;
  double target = u * nucleus, cumulative = 0;
  std::int64_t last_kept = -1;
  std::size_t ties_seen = 0;
  for (std::int64_t i = 0; i < V; ++i) {
    std::uint32_t b = bucket_of(q[i]);
    bool kept;
    if (b > boundary) {
      kept = true;
    } else if (b < boundary || q[i] < threshold) {
      kept = false;
    } else if (q[i] > threshold) {
      kept = true;
    } else {
      kept = ties_seen++ < threshold_ties_kept;
    }
    if (!kept) continue;
    last_kept = i;
    cumulative += q[i];
    if (cumulative > target) return i;
  }
  return last_kept;
}

// The same draws as draw() for every row at once, in tensor operations, so that on a GPU only the chosen
// ids leave the device. The top-k/top-p definitions and the tie rule (the lower id first) are draw()'s;
// sums are in double, prefix sums in id order, as draw() adds them.
at::Tensor draw_rows_with_tensors(const at::Tensor& probs, const std::vector<RowSampling>& rows, const std::vector<double>& uniforms) {
  const std::int64_t R = probs.size(0), V = probs.size(1);
  const at::Device device = probs.device();
  std::vector<std::int64_t> k(static_cast<std::size_t>(R));
  std::vector<double> p(static_cast<std::size_t>(R));
  std::vector<std::uint8_t> k_on(static_cast<std::size_t>(R));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    k_on[r] = rows[r].top_k > 0 && rows[r].top_k < V;
    k[r] = k_on[r] ? rows[r].top_k : V;
    p[r] = rows[r].top_p < 1.0 ? rows[r].top_p : 2.0;   // > 1: every prefix qualifies
  }
  auto on = [&](at::Tensor t) { return t.to(device); };
  at::Tensor top_k = on(at::tensor(k, at::kLong)).unsqueeze(1), top_p = on(at::tensor(p, at::kDouble)).unsqueeze(1);
  at::Tensor top_k_on = on(at::tensor(k_on, at::kByte).to(at::kBool)).unsqueeze(1);

  // Descending by probability; a stable sort keeps equal ones in id order (the lower id first).
  auto [sorted, order] = probs.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/true);
  at::Tensor mass = sorted.to(at::kDouble);
  at::Tensor rank = at::arange(V, at::TensorOptions().dtype(at::kLong).device(device)).unsqueeze(0);
  at::Tensor in_top_k = rank < top_k;
  at::Tensor before = mass.cumsum(-1) - mass;                      // the mass ahead of each token
  // draw(): with top-k, the prefix whose share of the top-k mass before it is < p; without, the mass
  // before it < p * total.
  at::Tensor top_k_mass = (mass * in_top_k).sum(-1, /*keepdim=*/true);
  at::Tensor probs64 = probs.to(at::kDouble);
  at::Tensor total = probs64.sum(-1, /*keepdim=*/true);
  at::Tensor in_top_p = at::where(top_k_on, before / top_k_mass < top_p, before < top_p * total);
  at::Tensor keep_sorted = in_top_k.logical_and(in_top_p.logical_or(rank == 0));
  at::Tensor keep = at::zeros_like(keep_sorted).scatter_(1, order, keep_sorted);

  // The inverse CDF of the kept tokens in id order at each row's uniform number.
  at::Tensor cdf = (probs64 * keep).cumsum(-1);
  at::Tensor target = on(at::tensor(uniforms, at::kDouble)).unsqueeze(1) * cdf.narrow(1, V - 1, 1);
  at::Tensor chosen = (cdf <= target).sum(-1);
  // Past the end only by rounding: the last kept token, as draw() returns it.
  at::Tensor last_kept = (V - 1) - keep.flip(-1).to(at::kByte).argmax(-1);
  return at::where(chosen < V, chosen, last_kept);
}

}  // namespace

double sample_uniform(std::uint64_t seed, std::uint64_t step) {
  std::uint64_t bits = splitmix64(splitmix64(seed) ^ (step * 0xD1B54A32D192ED03ull));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

std::uint64_t sample_seed(std::uint64_t request_seed, int sample) {
  return splitmix64(request_seed + 0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(sample + 1));
}

SampledTokens sample_next_tokens(const at::Tensor& logits_in, const std::vector<RowSampling>& rows,
                                 const std::vector<std::uint64_t>& steps, SamplerPath path) {
  const std::int64_t R = logits_in.size(0), V = logits_in.size(1);
  at::Tensor logits = logits_in.to(at::kFloat);
  SampledTokens out;
  out.tokens.assign(static_cast<std::size_t>(R), 0);
  out.logprobs.assign(static_cast<std::size_t>(R), 0.0f);

  std::vector<float> inverse_temperature(static_cast<std::size_t>(R));
  for (std::size_t r = 0; r < rows.size(); ++r) inverse_temperature[r] = rows[r].temperature > 0 ? static_cast<float>(1.0 / rows[r].temperature) : 1.0f;
  at::Tensor probs = at::softmax(logits * at::tensor(inverse_temperature).to(logits.device()).unsqueeze(1), -1);
  const bool with_tensors = path == SamplerPath::tensors || (path == SamplerPath::automatic && !logits.device().is_cpu());
  if (with_tensors) {
    std::vector<double> uniforms(static_cast<std::size_t>(R));
    std::vector<std::uint8_t> greedy_rows(static_cast<std::size_t>(R));
    bool all_greedy = true;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      uniforms[r] = sample_uniform(rows[r].seed, steps[r]);
      greedy_rows[r] = rows[r].temperature <= 0;
      all_greedy = all_greedy && greedy_rows[r];
    }
    at::Tensor chosen = logits.argmax(-1);
    if (!all_greedy) {   // greedy decoding needs no sort of the vocabulary
      at::Tensor greedy_mask = at::tensor(greedy_rows, at::kByte).to(at::kBool).to(logits.device());
      chosen = at::where(greedy_mask, chosen, draw_rows_with_tensors(probs, rows, uniforms));
    }
    chosen = chosen.to(at::kCPU);
    std::copy(chosen.data_ptr<std::int64_t>(), chosen.data_ptr<std::int64_t>() + R, out.tokens.begin());
  } else {
    probs = probs.to(at::kCPU).contiguous();
    at::Tensor greedy = logits.argmax(-1).to(at::kCPU);
    const float* p = probs.data_ptr<float>();
    const std::int64_t* greedy_ids = greedy.data_ptr<std::int64_t>();
    // Rows are independent: split them over the intra-op threads.
    at::parallel_for(0, R, 1, [&](std::int64_t begin, std::int64_t end) {
      Histogram histogram;
      std::vector<std::pair<float, std::int64_t>> scratch;
      for (std::int64_t r = begin; r < end; ++r) {
        const RowSampling& s = rows[static_cast<std::size_t>(r)];
        out.tokens[static_cast<std::size_t>(r)] =
            s.temperature <= 0 ? greedy_ids[r]
                               : draw(p + r * V, V, s, sample_uniform(s.seed, steps[static_cast<std::size_t>(r)]), histogram, scratch);
      }
    });
  }
  // log p(token) under the model itself (temperature 1, as vLLM reports it), by the function the trainer
  // scores rollouts with.
  at::Tensor chosen = at::tensor(out.tokens, at::TensorOptions().dtype(at::kLong)).to(logits.device());
  at::Tensor logprobs = token_logprobs(logits, chosen).to(at::kCPU).contiguous();
  std::copy(logprobs.data_ptr<float>(), logprobs.data_ptr<float>() + R, out.logprobs.begin());
  // At each row's own temperature, computed the way the trainer scores a rollout (token_logprobs divides
  // by the temperature), so that a rollout's logprobs and the training forward's agree.
  // Not the log of `probs` above: a float softmax over the vocabulary loses digits that a logsumexp keeps
  // (3x further from the training forward, measured). Rows at temperature 1 (or greedy) have it already.
  if (std::all_of(rows.begin(), rows.end(), [](const RowSampling& s) { return s.temperature <= 0 || s.temperature == 1.0; })) {
    out.sampling_logprobs = out.logprobs;
    return out;
  }
  // Dividing by a per-row tensor of temperatures rounds exactly like token_logprobs' division by one.
  std::vector<float> temperatures(static_cast<std::size_t>(R));
  for (std::size_t r = 0; r < rows.size(); ++r) temperatures[r] = rows[r].temperature > 0 ? static_cast<float>(rows[r].temperature) : 1.0f;
  at::Tensor scaled = logits / at::tensor(temperatures).to(logits.device()).unsqueeze(1);
  at::Tensor at_temperature = token_logprobs(scaled, chosen).to(at::kCPU).contiguous();
  out.sampling_logprobs.assign(at_temperature.data_ptr<float>(), at_temperature.data_ptr<float>() + R);
  return out;
}

}  // namespace r1lab::trainer
