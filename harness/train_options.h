// harness/train_options.h — the settings of `r1lab train sft`, each listed once (visit_sft_fields: name,
// member, help, whether it is part of the run's identity). That one list gives the command-line flags,
// the keys of a JSON --config file, the effective configuration written to OUT/config.json, and the
// comparison that refuses to resume a run under another configuration. The harness declares them (so
// --help works without LibTorch); the trainer plugin runs them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1lab::harness {

struct SftOptions {
  // What is trained, on what, where.
  std::string model_dir, data, out;
  std::string chat_template;           // empty: recognised from the model folder
  std::string loss_on = "assistant";   // assistant (assistant turns / completions) | all (plain text)
  std::int64_t max_seq_len = 4096;
  bool truncate = false;               // sequences over max_seq_len: cut (counted) instead of an error
  // The schedule of the data.
  std::int64_t epochs = 1;
  std::int64_t max_steps = 0;          // 0: epochs decide
  std::int64_t batch_size = 8;         // sequences per optimizer step (global)
  std::int64_t micro_batch_tokens = 8192;
  bool packing = true;
  bool shuffle = true;
  std::uint64_t seed = 0;
  // The optimizer.
  double lr = 1e-5;
  std::string lr_schedule = "cosine";  // cosine | constant | linear
  std::int64_t warmup_steps = 0;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_eps = 1e-8;
  double max_grad_norm = 1.0;          // 0: no clipping
  // Numerics and memory.
  std::string device = "cpu";
  std::string dtype = "auto";          // auto: float32 on CPU, bfloat16 compute on CUDA (fp32 master weights)
  bool activation_checkpointing = false;
  // Data parallelism (one process per device; results equal one process's up to rounding).
  int nproc = 1;                       // local ranks r1lab starts itself (torchrun and others set WORLD_SIZE instead)
  bool zero1 = true;                   // shard the optimizer state over ranks (ZeRO-1); false: all-reduce, every rank the whole state
  double bucket_mb = 25;               // all-reduce bucket size
  double dist_timeout_s = 600;         // a collective waiting longer fails
  // Checkpoints, logs, failures (not part of the identity: they may change between a run and its resume).
  std::int64_t save_every = 0;         // 0: only at the end
  std::int64_t keep_checkpoints = 2;
  bool skip_nonfinite = false;
  double log_every_s = 10;
  std::string progress = "auto";       // auto | bar | log | none
  std::string config_file;
};

// Identity: the field decides what the run computes; a resume must agree on it.
enum class FieldRole { identity, operational };

template <class Options, class Visitor>
void visit_sft_fields(Options& o, Visitor&& field) {
  using R = FieldRole;
  field("model", o.model_dir, "Hugging Face model folder to start from (config.json, safetensors, tokenizer.json)", R::identity);
  field("data", o.data, "JSONL training data: {\"messages\": [...]}, {\"prompt\", \"completion\"} or {\"text\"} lines", R::identity);
  field("out", o.out, "Run folder: config.json, metrics.jsonl, checkpoints/, final/; rerun to resume", R::operational);
  field("chat-template", o.chat_template, "qwen2.5, r1-distill or qwq (default: recognised from the model folder)", R::identity);
  field("loss-on", o.loss_on, "assistant: loss on assistant turns and completions only; all: on every token (plain text)", R::identity);
  field("max-seq-len", o.max_seq_len, "Longest sequence in tokens; longer ones are an error unless --truncate", R::identity);
  field("truncate", o.truncate, "Cut sequences over --max-seq-len instead of stopping (counted in the log)", R::identity);
  field("epochs", o.epochs, "Passes over the data (when --max-steps is 0)", R::identity);
  field("max-steps", o.max_steps, "Optimizer steps (0: --epochs decides)", R::identity);
  field("batch-size", o.batch_size, "Sequences per optimizer step, over all ranks", R::identity);
  field("micro-batch-tokens", o.micro_batch_tokens, "Most tokens in one forward/backward pass (gradient accumulation past it)", R::identity);
  field("packing", o.packing, "Pack sequences into one row, attention kept inside each (false: right-padded rows)", R::identity);
  field("shuffle", o.shuffle, "Shuffle the data every epoch (seeded)", R::identity);
  field("seed", o.seed, "Seed of the data order", R::identity);
  field("lr", o.lr, "Peak learning rate", R::identity);
  field("lr-schedule", o.lr_schedule, "cosine, constant or linear (after --warmup-steps of linear warmup)", R::identity);
  field("warmup-steps", o.warmup_steps, "Steps of linear warmup from 0", R::identity);
  field("weight-decay", o.weight_decay, "AdamW's decoupled weight decay (never on norms and biases)", R::identity);
  field("adam-beta1", o.adam_beta1, "AdamW beta1", R::identity);
  field("adam-beta2", o.adam_beta2, "AdamW beta2", R::identity);
  field("adam-eps", o.adam_eps, "AdamW epsilon", R::identity);
  field("max-grad-norm", o.max_grad_norm, "Clip the global gradient norm to this (0: no clipping)", R::identity);
  field("device", o.device, "cpu, cuda or cuda:N", R::identity);
  field("dtype", o.dtype, "auto, float32 or bfloat16 (compute; master weights and optimizer state are float32)", R::identity);
  field("activation-checkpointing", o.activation_checkpointing, "Recompute each decoder layer in the backward pass (less memory, more time)", R::identity);
  field("nproc", o.nproc, "Processes to start on this machine, one rank each (Gloo on CPU); under torchrun leave it 1", R::operational);
  field("zero1", o.zero1, "Shard AdamW's state and master weights over ranks (ZeRO-1); --no-zero1: every rank holds all of it", R::operational);
  field("bucket-mb", o.bucket_mb, "Size of the all-reduce buckets of gradients (without ZeRO-1)", R::operational);
  field("dist-timeout-s", o.dist_timeout_s, "Seconds a rank waits in a collective before failing", R::operational);
  field("save-every", o.save_every, "Checkpoint every N steps (0: only at the end)", R::operational);
  field("keep-checkpoints", o.keep_checkpoints, "Checkpoints kept (the newest)", R::operational);
  field("skip-nonfinite", o.skip_nonfinite, "Skip a step whose loss or gradient is not finite (counted) instead of stopping", R::operational);
  field("log-every-s", o.log_every_s, "Seconds between log lines when the output is not a terminal", R::operational);
  field("progress", o.progress, "auto (a live line on a terminal, else a log line every --log-every-s), bar, log or none", R::operational);
}

// The configuration as JSON, every field (the file the run writes as OUT/config.json).
nlohmann::json sft_options_to_json(const SftOptions& options);
// Sets the fields a JSON config names. Throws std::runtime_error naming `source` and the key on an
// unknown key or a value of the wrong type.
void apply_sft_json(SftOptions& options, const nlohmann::json& config, const std::string& source);
// "key: was X, now Y" for every identity field that differs; empty when a run may resume.
std::vector<std::string> sft_identity_differences(const nlohmann::json& stored, const SftOptions& current);
// Throws std::invalid_argument naming the flag for a value out of range.
void validate_sft_options(const SftOptions& options);

}  // namespace r1lab::harness
