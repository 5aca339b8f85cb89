// trainer/causal_lm.h — Qwen2 and Llama decoder-only models on LibTorch, loaded from a Hugging Face
// folder and agreeing with transformers' modeling_qwen2 / modeling_llama:
//   embed -> N x [RMSNorm -> attention (QKV bias for Qwen2, RoPE, grouped-query) -> residual
//                 -> RMSNorm -> SwiGLU MLP -> residual] -> RMSNorm -> lm_head (tied or not).
// RMSNorm and RoPE angles are computed in fp32 and cast back, as transformers does, so fp32 logits match
// to rounding and bf16 ones to bf16 rounding.
//
// Q, K and V projections are fused into one matrix, and gate and up into another (one GEMM each instead
// of three and two); save() splits them back into the Hugging Face tensor names.
// Every parameter is a view into one flat buffer described by a ParameterTable (trainer/parameter_table.h),
// so the optimizer and collectives work on one tensor and load/save map HF names to fused slices.
//
// Two forward passes share the decoder layer's pieces:
// - generation (forward): appends to a KvCache whose slots are batch-aligned: slot j of every row is
//   written at the same step, and a per-slot validity mask keeps left padding and finished rows out of
//   attention (decode_step: the same for one token per row in fixed shapes, for CUDA graphs);
// - training (train_hidden_states): no cache and no mask tensor. Documents packed into rows are gathered
//   into a (documents, longest) layout, right padded, so that causal attention (SDPA's is_causal, which
//   its flash kernels take) stays inside each document; one document per row needs no gather at all.
//   The exception is a row of shared-prefix continuations (GRPO's groups), which needs a mask.
//   Decoder layers run one at a time (decoder_layer), so activation checkpointing can wrap each.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trainer/model_config.h"
#include "trainer/parameter_table.h"

namespace r1lab::trainer {

struct KvCache {
  std::vector<at::Tensor> keys, values;   // per layer: (batch, kv_heads, capacity, head_dim)
  at::Tensor valid;                       // (batch, capacity) bool: the slot holds a real token
  std::int64_t length = 0;                // slots written

  std::int64_t batch() const { return valid.size(0); }
  std::int64_t capacity() const { return valid.size(1); }
  // Keeps only the given rows (finished sequences leave the batch).
  void select_rows(const at::Tensor& rows);
  // Grows capacity to at least `slots`, keeping what is written.
  void reserve(std::int64_t slots);
  // Adds another cache's rows after these (continuous batching: newly prefilled sequences join a batch
  // that is decoding). The two are aligned at their last written slot, so every row's next token goes to
  // the same slot; slots a row never wrote are invalid. Attention follows `valid` and RoPE takes positions
  // per row, so where a row's tokens sit in the slot axis changes nothing it computes.
  void append_rows(const KvCache& other);
  // Writes another cache's rows into the given rows of this one, in place (a new sequence takes a finished
  // one's row: nothing else is copied, and the tensors a decode graph was captured on stay the same). The
  // other's slots end at this cache's last written slot, as append_rows aligns them; every other slot of
  // those rows becomes invalid. The other cache must not be longer than this one.
  void place_rows(const at::Tensor& rows, const KvCache& other);
  // Rows [first, first + count) as views of this cache's tensors.
  KvCache row_range(std::int64_t first, std::int64_t count) const;
  // Drops the first `slots` slots (no row may still hold a valid one there): the slots of finished
  // sequences, so that a long-running batch does not grow without bound.
  void drop_front(std::int64_t slots);
  // Slots at the front that no row holds.
  std::int64_t unused_front() const;
};

// Where the documents of a packed training micro-batch sit. Tokens are laid out (rows, columns); document
// d occupies row span.row, columns [span.start, span.start + span.length). Tokens outside every document
// are padding: they are computed but attend to nothing real and nothing attends to them.
struct DocumentSpan {
  std::int64_t row = 0, start = 0, length = 0;
};
// A row that holds one prefix and several continuations of it, one after another (GRPO: a group's G
// completions of one prompt). The prefix is computed once instead of once per continuation.
struct SharedPrefixRow {
  std::int64_t prefix = 0;                    // tokens
  std::vector<std::int64_t> continuations;    // tokens of each, in row order after the prefix
};
struct DocumentLayout {
  std::int64_t rows = 0, columns = 0;      // the token layout
  std::int64_t documents = 0, longest = 0; // the per-document layout attention runs in
  bool rows_are_documents = false;         // one document per row from column 0: the token layout is it
  at::Tensor to_documents;   // (documents * longest) flat token index of each document slot (past the end: its first token)
  at::Tensor to_tokens;      // (rows * columns) flat document slot of each token (padding: slot 0)
  // Set only by build_shared_prefix (else: positions 0, 1, ... and causal attention within a document):
  at::Tensor positions;        // (documents, longest) RoPE position of each slot
  at::Tensor attention_mask;   // (documents, 1, longest, longest) bool: which slots a query attends to
  // Throws std::invalid_argument on spans that overlap or leave the rows.
  static DocumentLayout build(std::int64_t rows, std::int64_t columns, const std::vector<DocumentSpan>& spans,
                              at::Device device);
  // One row per SharedPrefixRow, `columns` wide (right padding). A continuation's tokens attend to the whole
  // prefix and to their own earlier tokens, never to another continuation, and take the positions they
  // would have after the prefix alone: each continuation's hidden states equal those of prefix +
  // continuation run as one document (to rounding). Padding attends to itself only. The mask is dense
  // (rows x columns^2 bytes): meant for rows of up to a few thousand tokens.
  static DocumentLayout build_shared_prefix(std::int64_t columns, const std::vector<SharedPrefixRow>& rows, at::Device device);
};

struct LoadOptions {
  at::Device device = at::kCPU;
  // "auto": the stored dtype on CUDA, float32 on CPU (bf16 GEMMs are slow on most CPUs).
  std::string dtype = "auto";
  // Set: no weights are read; every parameter is initialised as transformers initialises a new model
  // (matrices and embeddings normal(0, initializer_range), biases 0, norms 1) from this seed. On CUDA
  // the device's generator draws them (fast for billions of weights): the same law, other numbers.
  std::optional<std::uint64_t> random_init_seed = std::nullopt;
};

at::ScalarType dtype_from_name(const std::string& name);   // float32, bfloat16, float16; throws otherwise
std::string dtype_name(at::ScalarType dtype);                // the names transformers writes in config.json

class CausalLM {
 public:
  // Throws std::runtime_error naming the tensor and file on a missing tensor or a wrong shape.
  static std::unique_ptr<CausalLM> load(const std::filesystem::path& model_dir, const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  at::Device device() const { return embed_.device(); }
  at::ScalarType dtype() const { return embed_.scalar_type(); }

  KvCache new_cache(std::int64_t batch, std::int64_t capacity) const;

  // Runs `ids` (batch, T) at `positions` (batch, T) through the model, writing their keys and values to
  // cache slots [cache.length, cache.length + T) and attending to every valid slot up to each query's
  // own. `valid` (batch, T) marks real tokens. Returns logits (batch, T, vocab), or (batch, vocab) for
  // the last position when last_only.
  at::Tensor forward(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& valid, KvCache& cache,
                     bool last_only = false) const;
  // One decode step (one token per row) in fixed shapes, what a CUDA graph captures and replays
  // (trainer/decode_steps.h): every input is a device tensor, so no host value enters the computation.
  // `ids`, `positions` (batch, 1) long and `valid` (batch, 1) bool as for forward; `slot` (1,) long: the
  // cache slot the step writes (the caller's cache.length, which this does not advance). Attention covers
  // the first `window` slots: every valid one and the query's own (slots never written are invalid), so
  // the shapes depend only on (batch, window) and the cache's tensors. Returns logits (batch, vocab).
  at::Tensor decode_step(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& valid, const at::Tensor& slot,
                         KvCache& cache, std::int64_t window) const;
  // Logits of whole sequences without a cache (scoring and training): attention_mask (batch, T) marks
  // real tokens; positions count real tokens, so left and right padding both work.
  at::Tensor logits(const at::Tensor& ids, const at::Tensor& attention_mask) const;

  // --- training ---
  const ParameterTable& parameter_table() const { return table_; }
  // The flat buffer every parameter is a view of (table order), and the views themselves.
  const at::Tensor& flat_parameters() const { return flat_; }
  const std::vector<at::Tensor>& parameters() const { return parameters_; }
  // Makes every parameter a leaf that requires grad, whose .grad is the matching slice of `flat_grad`
  // (same dtype and device as flat_parameters()); autograd then accumulates into the flat buffer.
  void attach_gradients(const at::Tensor& flat_grad);

  // Final hidden states (rows, columns, hidden) of a packed micro-batch `ids` (rows, columns), positions
  // counted within each document. With checkpoint_layers, each decoder layer keeps only its input and
  // runs again during backward (activation checkpointing).
  at::Tensor train_hidden_states(const at::Tensor& ids, const DocumentLayout& layout, bool checkpoint_layers = false) const;
  // One decoder layer in the training layout: x (rows, columns, hidden); cos/sin from rope_for_layout.
  at::Tensor decoder_layer(std::size_t layer, const at::Tensor& x, const DocumentLayout& layout, const at::Tensor& cos,
                           const at::Tensor& sin) const;
  std::pair<at::Tensor, at::Tensor> rope_for_layout(const DocumentLayout& layout) const;
  // The final norm and the LM head: logits of hidden states (..., hidden) -> (..., vocab).
  at::Tensor lm_logits(const at::Tensor& hidden) const;

  // Writes config.json (dtype updated) and safetensors with the Hugging Face names, in `dtype`, and
  // copies the tokenizer and generation_config.json from the folder the model was loaded from.
  void save(const std::filesystem::path& dir, at::ScalarType dtype, std::size_t max_shard_bytes = std::size_t{5} << 30) const;

 private:
  struct Layer {
    at::Tensor input_norm, qkv_weight, qkv_bias, o_weight, o_bias, post_norm, gate_up_weight, gate_up_bias, down_weight, down_bias;
  };
  CausalLM() = default;
  void build_parameter_table();
  // The decoder layers of forward and decode_step: `write` stores a layer's new keys or values (batch,
  // kv_heads, T, head_dim) in its cache tensor; attention covers the first `attend` slots, under `mask` or causal.
  at::Tensor cached_layers(at::Tensor x, const at::Tensor& cos, const at::Tensor& sin, KvCache& cache,
                           const std::function<void(at::Tensor& slots, const at::Tensor& step)>& write, std::int64_t attend,
                           const std::optional<at::Tensor>& mask, bool causal) const;
  at::Tensor mlp(const Layer& L, const at::Tensor& h) const;
  at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) const;
  std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& positions, at::ScalarType dtype) const;

  ModelConfig config_;
  ParameterTable table_;
  at::Tensor flat_;                      // every parameter, in table order
  std::vector<at::Tensor> parameters_;   // views of flat_, in table order
  at::Tensor embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  at::Tensor inv_freq_;   // fp32, (head_dim / 2,)
};

}  // namespace r1lab::trainer
