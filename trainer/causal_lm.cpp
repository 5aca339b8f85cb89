#include "trainer/causal_lm.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <numbers>
#include <stdexcept>

#include "trainer/activation_checkpoint.h"
#include "trainer/safetensors.h"

namespace r1lab::trainer {
namespace {

std::string shape_text(at::IntArrayRef shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Reads one weight and checks its shape against what config.json implies.
class WeightLoader {
 public:
  WeightLoader(const SafetensorsReader& reader, const std::filesystem::path& dir) : reader_(reader), dir_(dir) {}

  at::Tensor get(const std::string& name, std::vector<std::int64_t> shape) const {
    if (!reader_.contains(name)) {
      throw std::runtime_error(dir_.string() + ": tensor '" + name + "' is missing from the safetensors files (is config.json for this checkpoint?)");
    }
    at::Tensor t = reader_.tensor(name);
    if (t.sizes() != at::IntArrayRef(shape)) {
      throw std::runtime_error(reader_.file_of(name) + ": tensor '" + name + "' has shape " + shape_text(t.sizes()) +
                               ", config.json implies " + shape_text(shape));
    }
    return t;   // a view of the read-only mapping; the caller copies it into the flat buffer
  }
  bool has(const std::string& name) const { return reader_.contains(name); }

 private:
  const SafetensorsReader& reader_;
  std::filesystem::path dir_;
};

at::Tensor rotate_half(const at::Tensor& x) {
  auto half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) { return x * cos + rotate_half(x) * sin; }

std::optional<at::Tensor> optional(const at::Tensor& t) { return t.defined() ? std::optional<at::Tensor>(t) : std::nullopt; }

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

void KvCache::append_rows(const KvCache& other) {
  const std::int64_t joined_length = std::max(length, other.length);
  const std::int64_t shift = joined_length - length, other_shift = joined_length - other.length;
  const std::int64_t joined_capacity = std::max(capacity() + shift, other.capacity() + other_shift);
  auto join = [&](const at::Tensor& mine, const at::Tensor& theirs, std::int64_t time_dim) {
    auto sizes = mine.sizes().vec();
    sizes[0] = mine.size(0) + theirs.size(0);
    sizes[static_cast<std::size_t>(time_dim)] = joined_capacity;
    at::Tensor joined = at::zeros(sizes, mine.options());
    joined.narrow(0, 0, mine.size(0)).narrow(time_dim, shift, length).copy_(mine.narrow(time_dim, 0, length));
    joined.narrow(0, mine.size(0), theirs.size(0)).narrow(time_dim, other_shift, other.length).copy_(theirs.narrow(time_dim, 0, other.length));
    return joined;
  };
  for (std::size_t l = 0; l < keys.size(); ++l) {
    keys[l] = join(keys[l], other.keys[l], 2);
    values[l] = join(values[l], other.values[l], 2);
  }
  valid = join(valid, other.valid, 1);
  length = joined_length;
}

void KvCache::place_rows(const at::Tensor& rows, const KvCache& other) {
  if (other.length > length)
    throw std::invalid_argument("place_rows: the placed rows hold " + std::to_string(other.length) + " slots, more than the " +
                                std::to_string(length) + " written here");
  if (rows.numel() != other.batch()) throw std::invalid_argument("place_rows: one target row per placed row");
  const std::int64_t shift = length - other.length;
  for (std::size_t l = 0; l < keys.size(); ++l) {
    keys[l].narrow(2, shift, other.length).index_copy_(0, rows, other.keys[l].narrow(2, 0, other.length));
    values[l].narrow(2, shift, other.length).index_copy_(0, rows, other.values[l].narrow(2, 0, other.length));
  }
  valid.index_fill_(0, rows, false);
  valid.narrow(1, shift, other.length).index_copy_(0, rows, other.valid.narrow(1, 0, other.length));
}

KvCache KvCache::row_range(std::int64_t first, std::int64_t count) const {
  KvCache part;
  for (const auto& k : keys) part.keys.push_back(k.narrow(0, first, count));
  for (const auto& v : values) part.values.push_back(v.narrow(0, first, count));
  part.valid = valid.narrow(0, first, count);
  part.length = length;
  return part;
}

void KvCache::drop_front(std::int64_t slots) {
  if (slots <= 0) return;
  if (slots > length) throw std::invalid_argument("drop_front: more slots than are written");
  for (auto& k : keys) k = k.narrow(2, slots, capacity() - slots);
  for (auto& v : values) v = v.narrow(2, slots, capacity() - slots);
  valid = valid.narrow(1, slots, capacity() - slots);
  length -= slots;
}

std::int64_t KvCache::unused_front() const {
  if (length == 0 || valid.size(0) == 0) return length;
  at::Tensor used = valid.narrow(1, 0, length).any(0);
  if (!used.any().item<bool>()) return length;
  return used.to(at::kByte).argmax().item<std::int64_t>();
}

void CausalLM::build_parameter_table() {
  const ModelConfig& c = config_;
  const std::int64_t H = c.hidden_size, I = c.intermediate_size, D = c.head_dim;
  const std::int64_t q_out = c.num_heads * D, kv_out = c.num_kv_heads * D;
  auto add = [&](std::string name, std::vector<std::int64_t> shape, bool decay, std::vector<HfSlice> hf) {
    table_.add({std::move(name), std::move(shape), decay, std::move(hf)});
  };
  add("embed", {c.vocab_size, H}, true, {{"model.embed_tokens.weight", 0, c.vocab_size}});
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string ours = "layers." + std::to_string(i) + ".", hf = "model.layers." + std::to_string(i) + ".";
    add(ours + "input_norm", {H}, false, {{hf + "input_layernorm.weight", 0, H}});
    add(ours + "qkv_weight", {q_out + 2 * kv_out, H}, true,
        {{hf + "self_attn.q_proj.weight", 0, q_out}, {hf + "self_attn.k_proj.weight", q_out, kv_out},
         {hf + "self_attn.v_proj.weight", q_out + kv_out, kv_out}});
    if (c.qkv_bias) {
      add(ours + "qkv_bias", {q_out + 2 * kv_out}, false,
          {{hf + "self_attn.q_proj.bias", 0, q_out}, {hf + "self_attn.k_proj.bias", q_out, kv_out},
           {hf + "self_attn.v_proj.bias", q_out + kv_out, kv_out}});
    }
    add(ours + "o_weight", {H, q_out}, true, {{hf + "self_attn.o_proj.weight", 0, H}});
    if (c.o_bias) add(ours + "o_bias", {H}, false, {{hf + "self_attn.o_proj.bias", 0, H}});
    add(ours + "post_norm", {H}, false, {{hf + "post_attention_layernorm.weight", 0, H}});
    add(ours + "gate_up_weight", {2 * I, H}, true, {{hf + "mlp.gate_proj.weight", 0, I}, {hf + "mlp.up_proj.weight", I, I}});
    if (c.mlp_bias) {
      add(ours + "gate_up_bias", {2 * I}, false, {{hf + "mlp.gate_proj.bias", 0, I}, {hf + "mlp.up_proj.bias", I, I}});
      add(ours + "down_bias", {H}, false, {{hf + "mlp.down_proj.bias", 0, H}});
    }
    add(ours + "down_weight", {H, I}, true, {{hf + "mlp.down_proj.weight", 0, H}});
  }
  add("final_norm", {H}, false, {{"model.norm.weight", 0, H}});
  if (!c.tie_word_embeddings) add("lm_head", {c.vocab_size, H}, true, {{"lm_head.weight", 0, c.vocab_size}});
  table_.finalize();
}

std::unique_ptr<CausalLM> CausalLM::load(const std::filesystem::path& dir, const LoadOptions& options) {
  std::unique_ptr<CausalLM> m(new CausalLM());
  m->config_ = ModelConfig::load(dir);
  const ModelConfig& c = m->config_;
  at::ScalarType dtype = options.dtype == "auto"
                             ? (options.device.is_cuda() ? dtype_from_name(c.torch_dtype) : at::kFloat)
                             : dtype_from_name(options.dtype);
  m->build_parameter_table();
  const auto tensor_options = at::TensorOptions().dtype(dtype).device(options.device);
  m->flat_ = at::empty({m->table_.total_numel()}, tensor_options);
  std::optional<SafetensorsReader> reader;
  std::optional<WeightLoader> w;
  std::optional<at::Generator> generator;
  if (options.random_init_seed && options.device.is_cuda()) {
    // On the device's own generator: drawing billions of numbers one by one on the CPU takes minutes.
    // Different numbers from a CPU initialisation with the same seed, but the same distribution.
    generator = at::globalContext().defaultGenerator(options.device);
    std::lock_guard<std::mutex> lock(generator->mutex());
    generator->set_current_seed(*options.random_init_seed);
  } else if (options.random_init_seed) {
    generator = at::detail::createCPUGenerator(*options.random_init_seed);
  } else {
    reader.emplace(dir);
    w.emplace(*reader, dir);
  }
  const double init_std = c.source.value("initializer_range", 0.02);
  std::map<std::string, at::Tensor> by_name;
  for (const ParameterSpec& spec : m->table_.specs()) {
    at::Tensor view = m->flat_.narrow(0, spec.offset, spec.numel()).view(spec.shape);
    if (generator) {
      const bool norm = spec.name.size() >= 4 && spec.name.compare(spec.name.size() - 4, 4, "norm") == 0;
      const bool bias = spec.name.find("bias") != std::string::npos;
      const auto where = at::TensorOptions().device(generator->device());
      at::Tensor values = norm ? at::ones(spec.shape, where) : bias ? at::zeros(spec.shape, where)
                                                                    : at::empty(spec.shape, where).normal_(0, init_std, *generator);
      // nn.Embedding(padding_idx=pad_token_id) is zeroed there, as transformers' _init_weights does.
      const nlohmann::json pad = c.source.value("pad_token_id", nlohmann::json());
      if (spec.name == "embed" && pad.is_number_integer() && pad.get<std::int64_t>() >= 0 && pad.get<std::int64_t>() < c.vocab_size) {
        values[pad.get<std::int64_t>()].zero_();
      }
      view.copy_(values);
    }
    for (const HfSlice& slice : spec.hf) {
      if (generator) break;
      std::vector<std::int64_t> shape = spec.shape;
      shape[0] = slice.rows;
      view.narrow(0, slice.offset, slice.rows).copy_(w->get(slice.name, shape));
    }
    m->parameters_.push_back(view);
    by_name[spec.name] = view;
  }
  auto param = [&](const std::string& name) {
    auto it = by_name.find(name);
    return it == by_name.end() ? at::Tensor() : it->second;
  };
  m->embed_ = param("embed");
  m->final_norm_ = param("final_norm");
  m->lm_head_ = c.tie_word_embeddings ? m->embed_ : param("lm_head");
  for (std::int64_t i = 0; i < c.num_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    m->layers_.push_back({param(p + "input_norm"), param(p + "qkv_weight"), param(p + "qkv_bias"), param(p + "o_weight"),
                          param(p + "o_bias"), param(p + "post_norm"), param(p + "gate_up_weight"), param(p + "gate_up_bias"),
                          param(p + "down_weight"), param(p + "down_bias")});
  }
  const std::int64_t D = c.head_dim;

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
  const std::int64_t T = ids.size(1), start = cache.length, end = start + T;
  if (end > cache.capacity()) cache.reserve(end);
  cache.valid.narrow(1, start, T).copy_(valid);

  // An empty cache filled with unpadded rows needs no mask: causal attention is the whole rule, and
  // SDPA's is_causal takes the flash kernel on a GPU. Asked once per prefill, never on a decode step.
  const bool plain_causal = start == 0 && T > 1 && valid.all().item<bool>();
  // Otherwise allowed[b, i, j]: query i (slot start+i) may attend key slot j. A padding query attends
  // only to itself, so that no row is fully masked (which would give NaN); its output is never used.
  std::optional<at::Tensor> allowed;
  if (!plain_causal) {
    at::Tensor key_slots = at::arange(end, ids.options().dtype(at::kLong));
    at::Tensor query_slots = at::arange(start, end, ids.options().dtype(at::kLong));
    at::Tensor causal = key_slots.unsqueeze(0) <= query_slots.unsqueeze(1);                         // (T, end)
    at::Tensor mask = causal.unsqueeze(0).logical_and(cache.valid.narrow(1, 0, end).unsqueeze(1));     // (B, T, end)
    mask = mask.logical_or((key_slots.unsqueeze(0) == query_slots.unsqueeze(1)).unsqueeze(0));
    allowed = mask.unsqueeze(1);                                                                   // (B, 1, T, end)
  }

  auto [cos, sin] = rope_cos_sin(positions, embed_.scalar_type());
  at::Tensor x = cached_layers(
      at::embedding(embed_, ids), cos, sin, cache,
      [&](at::Tensor& slots, const at::Tensor& step) { slots.narrow(2, start, T).copy_(step); }, end, allowed, plain_causal);
  cache.length = end;
  if (last_only) x = x.select(1, T - 1);
  return lm_logits(x);
}

at::Tensor CausalLM::decode_step(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& valid, const at::Tensor& slot,
                                KvCache& cache, std::int64_t window) const {
  if (window > cache.capacity()) throw std::invalid_argument("decode_step: a window past the cache's capacity");
  cache.valid.index_copy_(1, slot, valid);
  // The query's own slot is always allowed (a finished row's query has no valid key of its own).
  at::Tensor key_slots = at::arange(window, slot.options());
  at::Tensor allowed = cache.valid.narrow(1, 0, window).logical_or(key_slots == slot);   // (B, window)
  auto [cos, sin] = rope_cos_sin(positions, embed_.scalar_type());
  at::Tensor x = cached_layers(
      at::embedding(embed_, ids), cos, sin, cache,
      [&](at::Tensor& slots, const at::Tensor& step) { slots.index_copy_(2, slot, step); }, window,
      allowed.unsqueeze(1).unsqueeze(1), /*causal=*/false);
  return lm_logits(x.select(1, 0));
}

at::Tensor CausalLM::cached_layers(at::Tensor x, const at::Tensor& cos, const at::Tensor& sin, KvCache& cache,
                                   const std::function<void(at::Tensor&, const at::Tensor&)>& write, std::int64_t attend,
                                   const std::optional<at::Tensor>& mask, bool causal) const {
  const ModelConfig& c = config_;
  const std::int64_t B = x.size(0), T = x.size(1);
  const std::int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& L = layers_[l];
    at::Tensor h = rms_norm(x, L.input_norm);
    at::Tensor qkv = at::linear(h, L.qkv_weight, optional(L.qkv_bias));
    at::Tensor q = qkv.narrow(-1, 0, q_out).view({B, T, c.num_heads, c.head_dim}).transpose(1, 2);
    at::Tensor k = qkv.narrow(-1, q_out, kv_out).view({B, T, c.num_kv_heads, c.head_dim}).transpose(1, 2);
    at::Tensor v = qkv.narrow(-1, q_out + kv_out, kv_out).view({B, T, c.num_kv_heads, c.head_dim}).transpose(1, 2);
    q = apply_rope(q, cos, sin);
    k = apply_rope(k, cos, sin);
    write(cache.keys[l], k);
    write(cache.values[l], v);
    at::Tensor keys = cache.keys[l].narrow(2, 0, attend), values = cache.values[l].narrow(2, 0, attend);
    at::Tensor attention = at::scaled_dot_product_attention(q, keys, values, mask, 0.0, causal, std::nullopt,
                                                            /*enable_gqa=*/c.num_kv_heads != c.num_heads);
    attention = attention.transpose(1, 2).reshape({B, T, q_out});
    x = x + at::linear(attention, L.o_weight, optional(L.o_bias));
    x = x + mlp(L, rms_norm(x, L.post_norm));
  }
  return x;
}

at::Tensor CausalLM::mlp(const Layer& L, const at::Tensor& h) const {
  const std::int64_t I = config_.intermediate_size;
  at::Tensor gate_up = at::linear(h, L.gate_up_weight, optional(L.gate_up_bias));
  return at::linear(at::silu(gate_up.narrow(-1, 0, I)) * gate_up.narrow(-1, I, I), L.down_weight, optional(L.down_bias));
}

at::Tensor CausalLM::lm_logits(const at::Tensor& hidden) const { return at::linear(rms_norm(hidden, final_norm_), lm_head_); }

DocumentLayout DocumentLayout::build(std::int64_t rows, std::int64_t columns, const std::vector<DocumentSpan>& spans,
                                     at::Device device) {
  DocumentLayout layout;
  layout.rows = rows;
  layout.columns = columns;
  layout.documents = static_cast<std::int64_t>(spans.size());
  std::vector<std::uint8_t> used(static_cast<std::size_t>(rows * columns), 0);
  bool one_per_row = layout.documents == rows;
  for (std::size_t d = 0; d < spans.size(); ++d) {
    const DocumentSpan& s = spans[d];
    if (s.length <= 0 || s.row < 0 || s.row >= rows || s.start < 0 || s.start + s.length > columns) {
      throw std::invalid_argument("document " + std::to_string(d) + " does not fit the " + std::to_string(rows) + " x " +
                                  std::to_string(columns) + " micro-batch");
    }
    for (std::int64_t j = 0; j < s.length; ++j) {
      auto& cell = used[static_cast<std::size_t>(s.row * columns + s.start + j)];
      if (cell) throw std::invalid_argument("documents overlap in row " + std::to_string(s.row));
      cell = 1;
    }
    layout.longest = std::max(layout.longest, s.length);
    one_per_row = one_per_row && s.row == static_cast<std::int64_t>(d) && s.start == 0;
  }
  if (one_per_row) {
    // Right padding after each document: causal attention never reaches it, so no gather is needed.
    layout.rows_are_documents = true;
    layout.longest = columns;
    return layout;
  }
  std::vector<std::int64_t> to_documents(static_cast<std::size_t>(layout.documents * layout.longest));
  std::vector<std::int64_t> to_tokens(static_cast<std::size_t>(rows * columns), 0);
  for (std::size_t d = 0; d < spans.size(); ++d) {
    const DocumentSpan& s = spans[d];
    const std::int64_t first = s.row * columns + s.start, slot0 = static_cast<std::int64_t>(d) * layout.longest;
    for (std::int64_t j = 0; j < layout.longest; ++j) {
      to_documents[static_cast<std::size_t>(slot0 + j)] = j < s.length ? first + j : first;
    }
    for (std::int64_t j = 0; j < s.length; ++j) to_tokens[static_cast<std::size_t>(first + j)] = slot0 + j;
  }
  auto options = at::TensorOptions().dtype(at::kLong);
  layout.to_documents = at::tensor(to_documents, options).to(device);
  layout.to_tokens = at::tensor(to_tokens, options).to(device);
  return layout;
}

DocumentLayout DocumentLayout::build_shared_prefix(std::int64_t columns, const std::vector<SharedPrefixRow>& rows,
                                                   at::Device device) {
  DocumentLayout layout;
  layout.rows = layout.documents = static_cast<std::int64_t>(rows.size());
  layout.columns = layout.longest = columns;
  layout.rows_are_documents = true;
  const auto C = static_cast<std::size_t>(columns);
  std::vector<std::int64_t> positions(rows.size() * C, 0);
  std::vector<std::uint8_t> mask(rows.size() * C * C, 0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const SharedPrefixRow& row = rows[r];
    std::int64_t used = row.prefix;
    for (std::int64_t length : row.continuations) used += length;
    if (row.prefix <= 0 || used > columns)
      throw std::invalid_argument("shared-prefix row " + std::to_string(r) + " (" + std::to_string(used) + " tokens) does not fit " +
                                  std::to_string(columns) + " columns");
    std::int64_t* position = positions.data() + r * C;
    std::uint8_t* allowed = mask.data() + r * C * C;   // allowed[query * C + key]
    auto allow = [&](std::int64_t query, std::int64_t key) { allowed[static_cast<std::size_t>(query) * C + static_cast<std::size_t>(key)] = 1; };
    for (std::int64_t q = 0; q < row.prefix; ++q) {
      position[q] = q;
      for (std::int64_t k = 0; k <= q; ++k) allow(q, k);
    }
    std::int64_t start = row.prefix;
    for (std::int64_t length : row.continuations) {
      for (std::int64_t j = 0; j < length; ++j) {
        const std::int64_t q = start + j;
        position[q] = row.prefix + j;
        for (std::int64_t k = 0; k < row.prefix; ++k) allow(q, k);
        for (std::int64_t k = start; k <= q; ++k) allow(q, k);
      }
      start += length;
    }
    for (std::int64_t q = used; q < columns; ++q) allow(q, q);   // padding: a softmax over one key, never NaN
  }
  auto on = [&](at::Tensor t) { return t.to(device); };
  layout.positions = on(at::tensor(positions, at::kLong).view({layout.rows, columns}));
  layout.attention_mask = on(at::tensor(mask, at::kByte).view({layout.rows, 1, columns, columns}).to(at::kBool));
  return layout;
}

void CausalLM::attach_gradients(const at::Tensor& flat_grad) {
  if (flat_grad.numel() != flat_.numel() || flat_grad.scalar_type() != flat_.scalar_type() || flat_grad.device() != flat_.device()) {
    throw std::invalid_argument("attach_gradients: the gradient buffer must match the parameters' size, dtype and device");
  }
  const auto& specs = table_.specs();
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    parameters_[i].requires_grad_(true);
    parameters_[i].mutable_grad() = flat_grad.narrow(0, specs[i].offset, specs[i].numel()).view(specs[i].shape);
  }
}

std::pair<at::Tensor, at::Tensor> CausalLM::rope_for_layout(const DocumentLayout& layout) const {
  if (layout.positions.defined()) return rope_cos_sin(layout.positions, flat_.scalar_type());   // (documents, 1, longest, head_dim)
  at::Tensor positions = at::arange(layout.longest, at::TensorOptions().dtype(at::kLong).device(flat_.device())).unsqueeze(0);
  return rope_cos_sin(positions, flat_.scalar_type());   // (1, 1, longest, head_dim)
}

at::Tensor CausalLM::decoder_layer(std::size_t layer, const at::Tensor& x, const DocumentLayout& layout, const at::Tensor& cos,
                                   const at::Tensor& sin) const {
  const ModelConfig& c = config_;
  const Layer& L = layers_[layer];
  const std::int64_t R = x.size(0), T = x.size(1), Docs = layout.documents, Len = layout.longest;
  const std::int64_t q_out = c.num_heads * c.head_dim, kv_out = c.num_kv_heads * c.head_dim;
  at::Tensor qkv = at::linear(rms_norm(x, L.input_norm), L.qkv_weight, optional(L.qkv_bias));
  if (!layout.rows_are_documents) qkv = qkv.reshape({R * T, -1}).index_select(0, layout.to_documents);
  qkv = qkv.view({Docs, Len, -1});
  at::Tensor q = qkv.narrow(-1, 0, q_out).view({Docs, Len, c.num_heads, c.head_dim}).transpose(1, 2);
  at::Tensor k = qkv.narrow(-1, q_out, kv_out).view({Docs, Len, c.num_kv_heads, c.head_dim}).transpose(1, 2);
  at::Tensor v = qkv.narrow(-1, q_out + kv_out, kv_out).view({Docs, Len, c.num_kv_heads, c.head_dim}).transpose(1, 2);
  const bool masked = layout.attention_mask.defined();
  at::Tensor attention = at::scaled_dot_product_attention(apply_rope(q, cos, sin), apply_rope(k, cos, sin), v,
                                                          masked ? std::optional<at::Tensor>(layout.attention_mask) : std::nullopt, 0.0,
                                                          /*is_causal=*/!masked, std::nullopt,
                                                          /*enable_gqa=*/c.num_kv_heads != c.num_heads);
  attention = attention.transpose(1, 2).reshape({Docs * Len, q_out});
  if (!layout.rows_are_documents) attention = attention.index_select(0, layout.to_tokens);
  at::Tensor h = x + at::linear(attention.view({R, T, q_out}), L.o_weight, optional(L.o_bias));
  return h + mlp(L, rms_norm(h, L.post_norm));
}

at::Tensor CausalLM::train_hidden_states(const at::Tensor& ids, const DocumentLayout& layout, bool checkpoint_layers) const {
  at::Tensor x = at::embedding(embed_, ids);
  auto [cos, sin] = rope_for_layout(layout);
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    if (checkpoint_layers) {
      x = run_checkpointed([this, l, layout, cos = cos, sin = sin](const at::Tensor& input) {
        return decoder_layer(l, input, layout, cos, sin);
      }, x);
    } else {
      x = decoder_layer(l, x, layout, cos, sin);
    }
  }
  return x;
}

at::Tensor CausalLM::logits(const at::Tensor& ids, const at::Tensor& attention_mask) const {
  at::Tensor valid = attention_mask.to(at::kBool);
  at::Tensor positions = (valid.to(at::kLong).cumsum(1) - 1).clamp_min(0);
  KvCache cache = new_cache(ids.size(0), ids.size(1));
  return forward(ids, positions, valid, cache);
}

void CausalLM::save(const std::filesystem::path& dir, at::ScalarType dtype, std::size_t max_shard_bytes) const {
  const ModelConfig& c = config_;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    for (const HfSlice& slice : table_.specs()[i].hf) {
      tensors.emplace_back(slice.name, parameters_[i].detach().narrow(0, slice.offset, slice.rows).to(dtype));
    }
  }
  save_safetensors(dir, tensors, max_shard_bytes);

  nlohmann::json config = c.source;
  const std::string name = dtype_name(dtype);
  if (config.contains("torch_dtype")) config["torch_dtype"] = name;
  config["dtype"] = name;
  std::filesystem::path partial = dir / "config.json.partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << config.dump(2) << "\n";
    out.flush();
    if (!out) throw std::runtime_error(partial.string() + ": write failed (disk full?)");
  }
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
