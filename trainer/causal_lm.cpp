#include "trainer/causal_lm.h"

#include <cmath>
#include <fstream>
#include <numbers>
#include <stdexcept>

#include "trainer/safetensors.h"

namespace r1lab::trainer {
namespace {

std::string shape_text(at::IntArrayRef shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads one weight, checks its shape against what config.json implies, converts it.
class WeightLoader {
 public:
  WeightLoader(const SafetensorsReader& reader, const std::filesystem::path& dir, at::TensorOptions options)
      : reader_(reader), dir_(dir), options_(options) {}

  at::Tensor get(const std::string& name, std::vector<std::int64_t> shape) const {
    if (!reader_.contains(name)) {
      throw std::runtime_error(dir_.string() + ": tensor '" + name + "' is missing from the safetensors files (is config.json for this checkpoint?)");
    }
    at::Tensor t = reader_.tensor(name);
    if (t.sizes() != at::IntArrayRef(shape)) {
      throw std::runtime_error(reader_.file_of(name) + ": tensor '" + name + "' has shape " + shape_text(t.sizes()) +
                               ", config.json implies " + shape_text(shape));
    }
    // A copy always: the mapping is read-only and must not be aliased by tensors that may be updated.
    return t.to(options_, /*non_blocking=*/false, /*copy=*/true);
  }
  bool has(const std::string& name) const { return reader_.contains(name); }

 private:
  const SafetensorsReader& reader_;
  std::filesystem::path dir_;
  at::TensorOptions options_;
};

at::Tensor rotate_half(const at::Tensor& x) {
  auto half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

}  // namespace

at::ScalarType dtype_from_name(const std::string& name) {
  if (name == "float32" || name == "fp32") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float16" || name == "fp16") return at::kHalf;
  throw std::runtime_error("dtype '" + name + "' is not one of float32, bfloat16, float16");
}

std::string dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: return c10::toString(dtype);
  }
}

void KvCache::select_rows(const at::Tensor& rows) {
  for (auto& k : keys) k = k.index_select(0, rows);
  for (auto& v : values) v = v.index_select(0, rows);
  valid = valid.index_select(0, rows);
}

void KvCache::reserve(std::int64_t slots) {
  if (slots <= capacity()) return;
  std::int64_t grown = std::max(slots, capacity() * 2);
  auto grow = [&](at::Tensor& t) {
    auto sizes = t.sizes().vec();
    sizes[2] = grown;
    at::Tensor bigger = at::zeros(sizes, t.options());
    bigger.narrow(2, 0, length).copy_(t.narrow(2, 0, length));
    t = bigger;
  };
  for (auto& k : keys) grow(k);
  for (auto& v : values) grow(v);
  at::Tensor bigger = at::zeros({valid.size(0), grown}, valid.options());
  bigger.narrow(1, 0, length).copy_(valid.narrow(1, 0, length));
  valid = bigger;
}

std::unique_ptr<CausalLM> CausalLM::load(const std::filesystem::path& dir, const LoadOptions& options) {
  std::unique_ptr<CausalLM> m(new CausalLM());
  m->config_ = ModelConfig::load(dir);
  const ModelConfig& c = m->config_;
  at::ScalarType dtype = options.dtype == "auto"
                             ? (options.device.is_cuda() ? dtype_from_name(c.torch_dtype) : at::kFloat)
                             : dtype_from_name(options.dtype);
  SafetensorsReader reader(dir);
  WeightLoader w(reader, dir, at::TensorOptions().dtype(dtype).device(options.device));
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const std::int64_t q_out = c.num_heads * D, kv_out = c.num_kv_heads * D;

  m->embed_ = w.get("model.embed_tokens.weight", {c.vocab_size, H});
  m->final_norm_ = w.get("model.norm.weight", {H});
  m->lm_head_ = c.tie_word_embeddings ? m->embed_ : w.get("lm_head.weight", {c.vocab_size, H});
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer L;
    L.input_norm = w.get(p + "input_layernorm.weight", {H});
    L.post_norm = w.get(p + "post_attention_layernorm.weight", {H});
    L.qkv_weight = at::cat({w.get(p + "self_attn.q_proj.weight", {q_out, H}), w.get(p + "self_attn.k_proj.weight", {kv_out, H}),
                            w.get(p + "self_attn.v_proj.weight", {kv_out, H})}, 0);
    if (c.qkv_bias) {
      L.qkv_bias = at::cat({w.get(p + "self_attn.q_proj.bias", {q_out}), w.get(p + "self_attn.k_proj.bias", {kv_out}),
                            w.get(p + "self_attn.v_proj.bias", {kv_out})}, 0);
    }
    L.o_weight = w.get(p + "self_attn.o_proj.weight", {H, q_out});
    if (c.o_bias) L.o_bias = w.get(p + "self_attn.o_proj.bias", {H});
    L.gate_up_weight = at::cat({w.get(p + "mlp.gate_proj.weight", {I, H}), w.get(p + "mlp.up_proj.weight", {I, H})}, 0);
    if (c.mlp_bias) {
      L.gate_up_bias = at::cat({w.get(p + "mlp.gate_proj.bias", {I}), w.get(p + "mlp.up_proj.bias", {I})}, 0);
      L.down_bias = w.get(p + "mlp.down_proj.bias", {H});
    }
    L.down_weight = w.get(p + "mlp.down_proj.weight", {H, I});
    m->layers_.push_back(std::move(L));
  }

  // RoPE inverse frequencies (transformers' _compute_default_rope_parameters / _compute_llama3_parameters).
  at::Tensor exponents = at::arange(0, D, 2, at::TensorOptions().dtype(at::kLong)).to(at::kFloat) / static_cast<double>(D);
  at::Tensor inv_freq = 1.0 / at::pow(c.rope_theta, exponents);
  if (c.rope_scaling.llama3) {
    const RopeScaling& s = c.rope_scaling;
    double old_len = static_cast<double>(s.original_max_position_embeddings);
    double low_wavelen = old_len / s.low_freq_factor, high_wavelen = old_len / s.high_freq_factor;
    at::Tensor wavelen = 2 * std::numbers::pi / inv_freq;
    at::Tensor scaled = at::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
    at::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    at::Tensor smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled;
    at::Tensor medium = at::logical_not(wavelen < high_wavelen).logical_and(at::logical_not(wavelen > low_wavelen));
    inv_freq = at::where(medium, smoothed, scaled);
  }
  m->inv_freq_ = inv_freq.to(at::kFloat).to(options.device);
  return m;
}

KvCache CausalLM::new_cache(std::int64_t batch, std::int64_t capacity) const {
  KvCache cache;
  auto options = embed_.options();
  for (std::int64_t i = 0; i < config_.num_layers; ++i) {
    cache.keys.push_back(at::zeros({batch, config_.num_kv_heads, capacity, config_.head_dim}, options));
    cache.values.push_back(at::zeros({batch, config_.num_kv_heads, capacity, config_.head_dim}, options));
  }
  cache.valid = at::zeros({batch, capacity}, options.dtype(at::kBool));
  return cache;
}

at::Tensor CausalLM::rms_norm(const at::Tensor& x, const at::Tensor& weight) const {
  at::Tensor h = x.to(at::kFloat);
  h = h * at::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + config_.rms_norm_eps);
  return weight * h.to(x.scalar_type());
}

std::pair<at::Tensor, at::Tensor> CausalLM::rope_cos_sin(const at::Tensor& positions, at::ScalarType dtype) const {
  at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq_;   // (B, T, D/2)
  at::Tensor emb = at::cat({freqs, freqs}, -1).unsqueeze(1);               // (B, 1, T, D)
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor CausalLM::forward(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& valid, KvCache& cache,
                             bool last_only) const {
  const ModelConfig& c = config_;
  const std::int64_t B = ids.size(0), T = ids.size(1), start = cache.length, end = start + T;
  if (end > cache.capacity()) cache.reserve(end);
  cache.valid.narrow(1, start, T).copy_(valid);

  // allowed[b, i, j]: query i (slot start+i) may attend key slot j. A padding query attends only to
  // itself, so that no row is fully masked (which would give NaN); its output is never used.
  at::Tensor key_slots = at::arange(end, ids.options().dtype(at::kLong));
  at::Tensor query_slots = at::arange(start, end, ids.options().dtype(at::kLong));
  at::Tensor causal = key_slots.unsqueeze(0) <= query_slots.unsqueeze(1);                         // (T, end)
  at::Tensor allowed = causal.unsqueeze(0).logical_and(cache.valid.narrow(1, 0, end).unsqueeze(1));   // (B, T, end)
  allowed = allowed.logical_or((key_slots.unsqueeze(0) == query_slots.unsqueeze(1)).unsqueeze(0));
  allowed = allowed.unsqueeze(1);                                                                // (B, 1, T, end)

  auto [cos, sin] = rope_cos_sin(positions, embed_.scalar_type());
  const std::int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  at::Tensor x = at::embedding(embed_, ids);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    at::Tensor h = rms_norm(x, L.input_norm);
    at::Tensor qkv = at::linear(h, L.qkv_weight, L.qkv_bias.defined() ? std::optional<at::Tensor>(L.qkv_bias) : std::nullopt);
    at::Tensor q = qkv.narrow(-1, 0, q_out).view({B, T, c.num_heads, c.head_dim}).transpose(1, 2);
    at::Tensor k = qkv.narrow(-1, q_out, kv_out).view({B, T, c.num_kv_heads, c.head_dim}).transpose(1, 2);
    at::Tensor v = qkv.narrow(-1, q_out + kv_out, kv_out).view({B, T, c.num_kv_heads, c.head_dim}).transpose(1, 2);
    q = q * cos + rotate_half(q) * sin;
    k = k * cos + rotate_half(k) * sin;
    cache.keys[l].narrow(2, start, T).copy_(k);
    cache.values[l].narrow(2, start, T).copy_(v);
    at::Tensor keys = cache.keys[l].narrow(2, 0, end), values = cache.values[l].narrow(2, 0, end);
    at::Tensor attention = at::scaled_dot_product_attention(q, keys, values, allowed, 0.0, false, std::nullopt,
                                                            /*enable_gqa=*/c.num_kv_heads != c.num_heads);
    attention = attention.transpose(1, 2).reshape({B, T, q_out});
    x = x + at::linear(attention, L.o_weight, L.o_bias.defined() ? std::optional<at::Tensor>(L.o_bias) : std::nullopt);
    h = rms_norm(x, L.post_norm);
    at::Tensor gate_up = at::linear(h, L.gate_up_weight, L.gate_up_bias.defined() ? std::optional<at::Tensor>(L.gate_up_bias) : std::nullopt);
    at::Tensor gate = gate_up.narrow(-1, 0, c.intermediate_size), up = gate_up.narrow(-1, c.intermediate_size, c.intermediate_size);
    x = x + at::linear(at::silu(gate) * up, L.down_weight, L.down_bias.defined() ? std::optional<at::Tensor>(L.down_bias) : std::nullopt);
  }
  cache.length = end;
  if (last_only) x = x.select(1, T - 1);
  return at::linear(rms_norm(x, final_norm_), lm_head_);
}

at::Tensor CausalLM::logits(const at::Tensor& ids, const at::Tensor& attention_mask) const {
  at::Tensor valid = attention_mask.to(at::kBool);
  at::Tensor positions = (valid.to(at::kLong).cumsum(1) - 1).clamp_min(0);
  KvCache cache = new_cache(ids.size(0), ids.size(1));
  return forward(ids, positions, valid, cache);
}

void CausalLM::save(const std::filesystem::path& dir, at::ScalarType dtype, std::size_t max_shard_bytes) const {
  const ModelConfig& c = config_;
  const std::int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim, I = c.intermediate_size;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  auto add = [&](const std::string& name, const at::Tensor& t) { tensors.emplace_back(name, t.to(dtype)); };
  add("model.embed_tokens.weight", embed_);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& L = layers_[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add(p + "input_layernorm.weight", L.input_norm);
    add(p + "post_attention_layernorm.weight", L.post_norm);
    add(p + "self_attn.q_proj.weight", L.qkv_weight.narrow(0, 0, q_out));
    add(p + "self_attn.k_proj.weight", L.qkv_weight.narrow(0, q_out, kv_out));
    add(p + "self_attn.v_proj.weight", L.qkv_weight.narrow(0, q_out + kv_out, kv_out));
    if (L.qkv_bias.defined()) {
      add(p + "self_attn.q_proj.bias", L.qkv_bias.narrow(0, 0, q_out));
      add(p + "self_attn.k_proj.bias", L.qkv_bias.narrow(0, q_out, kv_out));
      add(p + "self_attn.v_proj.bias", L.qkv_bias.narrow(0, q_out + kv_out, kv_out));
    }
    add(p + "self_attn.o_proj.weight", L.o_weight);
    if (L.o_bias.defined()) add(p + "self_attn.o_proj.bias", L.o_bias);
    add(p + "mlp.gate_proj.weight", L.gate_up_weight.narrow(0, 0, I));
    add(p + "mlp.up_proj.weight", L.gate_up_weight.narrow(0, I, I));
    if (L.gate_up_bias.defined()) {
      add(p + "mlp.gate_proj.bias", L.gate_up_bias.narrow(0, 0, I));
      add(p + "mlp.up_proj.bias", L.gate_up_bias.narrow(0, I, I));
      add(p + "mlp.down_proj.bias", L.down_bias);
    }
    add(p + "mlp.down_proj.weight", L.down_weight);
  }
  add("model.norm.weight", final_norm_);
  if (!c.tie_word_embeddings) add("lm_head.weight", lm_head_);
  save_safetensors(dir, tensors, max_shard_bytes);

  nlohmann::json config = c.source;
  const std::string name = dtype_name(dtype);
  if (config.contains("torch_dtype")) config["torch_dtype"] = name;
  config["dtype"] = name;
  std::filesystem::path partial = dir / "config.json.partial";
  std::ofstream(partial) << config.dump(2) << "\n";
  std::filesystem::rename(partial, dir / "config.json");
  // The tokenizer and generation settings travel with the weights, so the folder is a whole model.
  std::error_code same;
  if (!std::filesystem::equivalent(c.model_dir, dir, same)) {
    for (const char* name : {"generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                             "special_tokens_map.json", "vocab.json", "merges.txt"}) {
      if (std::filesystem::exists(c.model_dir / name)) {
        std::filesystem::copy_file(c.model_dir / name, dir / name, std::filesystem::copy_options::overwrite_existing);
      }
    }
  }
}

}  // namespace r1lab::trainer
