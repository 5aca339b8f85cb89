// harness/train_options.h — the settings of `r1lab train sft` and `r1lab train grpo`, each listed once
// (visit_fields: name, member, help, whether it is part of the run's identity). That one list gives the
// command-line flags, the keys of a JSON --config file, the effective configuration written to
// OUT/config.json, and the comparison that refuses to resume a run under another configuration. The
// settings both trainers have (optimizer, devices, ranks, checkpoints, logs) are one list used by both.
// The harness declares them (so --help works without LibTorch); the trainer plugin runs them.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
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
  std::string progress = "auto";       // auto | live (bar: the same) | log | none
  std::string config_file;
};

// `r1lab train grpo`: GRPO as in DeepSeek-R1-Zero, rewarded by the task's own grader (docs/training.md).
struct GrpoOptions {
  // What is trained, on which prompts, where.
  std::string model_dir, task, out;
  std::string data_dir;                // empty: $R1LAB_DATA, else ../shared/data
  std::string chat_template;           // empty: recognised from the model folder
  std::string prompt_format = "r1-zero";   // r1-zero (completion prompt, think/answer tags) | chat
  std::int64_t limit = 0;              // the task's first N problems (0: all)
  bool shuffle = true;
  std::uint64_t seed = 0;              // data order and every rollout's sampling seed
  // Rollouts.
  std::int64_t max_steps = 100;        // rollout phases (each followed by --updates-per-rollout updates)
  std::int64_t prompts_per_step = 16;  // groups per step, over all ranks
  std::int64_t group_size = 8;         // G: samples per prompt
  std::int64_t max_new_tokens = 1024;
  double temperature = 1.0;
  double top_p = 1.0;
  std::int64_t rollout_batch = 64;     // sequences decoded together
  // Rewards (tasks/rewards.h).
  double accuracy_weight = 1.0;
  double format_weight = 0.0;
  std::int64_t overlong_buffer = 0;    // DAPO's soft overlong penalty over the last N tokens (0: off)
  double overlong_weight = 1.0;
  std::string code_reward = "all-pass"; // code tasks' accuracy: all-pass (1 when every test passes) | pass-rate
  double language_weight = 0.0;        // the R1 paper's language-consistency reward (0: off)
  std::string language = "en";         // its target: en (Latin script) or zh (Han)
  // The objective (trainer/grpo_objective.h).
  std::string scale_rewards = "group"; // group (GRPO) | batch (Lite-PPO) | none (Dr. GRPO)
  double epsilon_low = 0.2;
  double epsilon_high = 0.2;           // DAPO's clip-higher: 0.28
  double beta = 0.0;                   // KL coefficient; 0 keeps no reference model
  std::string kl = "k3";               // k1 | k2 | k3
  std::string loss_aggregation = "token-mean";   // token-mean | seq-mean-token-mean | seq-mean-token-sum | constant
  std::int64_t updates_per_rollout = 1;   // mu
  bool dynamic_sampling = false;       // DAPO: drop groups whose rewards are all equal, draw more prompts
  std::int64_t max_draws = 3;          // dynamic sampling: at most this many draws of --prompts-per-step per step
  bool mask_truncated = false;         // overlong filtering: samples cut at --max-new-tokens are not in the loss
  std::int64_t micro_batch_tokens = 8192;
  bool shared_prompt = true;           // the training forward computes a group's prompt once (trainer/grpo_batches.h)
  // The optimizer.
  double lr = 1e-6;
  std::string lr_schedule = "constant";
  std::int64_t warmup_steps = 0;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_eps = 1e-8;
  double max_grad_norm = 1.0;
  // Numerics, memory, ranks.
  std::string device = "cpu";
  std::string dtype = "auto";
  bool activation_checkpointing = false;
  int nproc = 1;
  bool zero1 = true;
  double bucket_mb = 25;
  double dist_timeout_s = 600;
  // Grading.
  int grading_workers = 0;             // 0: every core
  double grading_deadline_s = 10;      // per grading call, then the worker is killed (reward 0)
  // Periodic evaluation with `r1lab eval` on a checkpoint (results under OUT/eval/step-N).
  std::string eval_task;               // empty: none
  std::int64_t eval_every = 0;         // steps between evaluations (0: only at the end, when --eval-task is set)
  std::int64_t eval_limit = 0;         // first N problems (0: all)
  std::int64_t eval_samples = 1;
  double eval_temperature = 0.0;       // greedy by default: a small model's curve without sampling noise
  // Checkpoints, logs, failures (operational).
  std::int64_t save_every = 0;
  std::int64_t keep_checkpoints = 2;
  bool skip_nonfinite = false;
  double log_every_s = 10;
  std::string progress = "auto";
  std::string config_file;
};

// Identity: the field decides what the run computes; a resume must agree on it.
enum class FieldRole { identity, operational };

// The optimizer's settings, the same flags in both trainers (each trainer has its own defaults).
template <class Options, class Visitor>
void visit_optimizer_fields(Options& o, Visitor&& field) {
  using R = FieldRole;
  field("lr", o.lr, "Peak learning rate", R::identity);
  field("lr-schedule", o.lr_schedule, "cosine, constant or linear (after --warmup-steps of linear warmup)", R::identity);
  field("warmup-steps", o.warmup_steps, "Steps of linear warmup from 0", R::identity);
  field("weight-decay", o.weight_decay, "AdamW's decoupled weight decay (never on norms and biases)", R::identity);
  field("adam-beta1", o.adam_beta1, "AdamW beta1", R::identity);
  field("adam-beta2", o.adam_beta2, "AdamW beta2", R::identity);
  field("adam-eps", o.adam_eps, "AdamW epsilon", R::identity);
  field("max-grad-norm", o.max_grad_norm, "Clip the global gradient norm to this (0: no clipping)", R::identity);
}

// Devices and ranks.
template <class Options, class Visitor>
void visit_device_fields(Options& o, Visitor&& field) {
  using R = FieldRole;
  field("device", o.device, "cpu, cuda or cuda:N", R::identity);
  field("dtype", o.dtype, "auto, float32 or bfloat16 (compute; master weights and optimizer state are float32)", R::identity);
  field("activation-checkpointing", o.activation_checkpointing, "Recompute each decoder layer in the backward pass (less memory, more time)", R::identity);
  field("nproc", o.nproc, "Processes to start on this machine, one rank each (Gloo on CPU); under torchrun leave it 1", R::operational);
  field("zero1", o.zero1, "Shard AdamW's state and master weights over ranks (ZeRO-1); --no-zero1: every rank holds all of it", R::operational);
  field("bucket-mb", o.bucket_mb, "Size of the all-reduce buckets of gradients (without ZeRO-1)", R::operational);
  field("dist-timeout-s", o.dist_timeout_s, "Seconds a rank waits in a collective before failing", R::operational);
}

// Checkpoints, logs, failures: not part of the identity, they may change between a run and its resume.
template <class Options, class Visitor>
void visit_operational_fields(Options& o, Visitor&& field) {
  using R = FieldRole;
  field("save-every", o.save_every, "Checkpoint every N steps (0: only at the end)", R::operational);
  field("keep-checkpoints", o.keep_checkpoints, "Checkpoints kept (the newest)", R::operational);
  field("skip-nonfinite", o.skip_nonfinite, "Skip a step whose loss or gradient is not finite (counted) instead of stopping", R::operational);
  field("log-every-s", o.log_every_s, "Seconds between log lines when the output is not a terminal", R::operational);
  field("progress", o.progress, "auto (a live line on a terminal, else a log line every --log-every-s), live (or bar), log or none", R::operational);
}

template <class Options, class Visitor>
  requires std::is_same_v<std::remove_const_t<Options>, SftOptions>
void visit_fields(Options& o, Visitor&& field) {
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
  visit_optimizer_fields(o, field);
  visit_device_fields(o, field);
  visit_operational_fields(o, field);
}

template <class Options, class Visitor>
  requires std::is_same_v<std::remove_const_t<Options>, GrpoOptions>
void visit_fields(Options& o, Visitor&& field) {
  using R = FieldRole;
  field("model", o.model_dir, "Hugging Face model folder to start from (the policy, and the reference when --beta > 0)", R::identity);
  field("task", o.task, "The r1lab task whose problems are the prompts and whose grader is the accuracy reward (countdown_train, gsm8k_train, math_train, ...)", R::identity);
  field("out", o.out, "Run folder: config.json, metrics.jsonl, checkpoints/, eval/, final/; rerun to resume", R::operational);
  field("data-dir", o.data_dir, "Data directory (default: $R1LAB_DATA, else ../shared/data)", R::operational);
  field("chat-template", o.chat_template, "qwen2.5, r1-distill or qwq (with --prompt-format chat; default: recognised from the model folder)", R::identity);
  field("prompt-format", o.prompt_format, "r1-zero: the R1-Zero template as a completion prompt (think/answer tags); chat: the task's prompt through the chat template", R::identity);
  field("limit", o.limit, "Train on the task's first N problems (0: all)", R::identity);
  field("shuffle", o.shuffle, "Shuffle the problems every epoch (seeded)", R::identity);
  field("seed", o.seed, "Seed of the problem order and of every rollout (sample seeds derive from seed, step, problem, sample)", R::identity);
  field("max-steps", o.max_steps, "Rollout steps, each followed by --updates-per-rollout optimizer updates", R::identity);
  field("prompts-per-step", o.prompts_per_step, "Prompts (groups) per step, over all ranks", R::identity);
  field("group-size", o.group_size, "G: samples per prompt", R::identity);
  field("max-new-tokens", o.max_new_tokens, "Longest completion in tokens (a longer one is cut: finish_reason length)", R::identity);
  field("temperature", o.temperature, "Rollout sampling temperature (logprobs are taken at it, see docs/training.md)", R::identity);
  field("top-p", o.top_p, "Rollout nucleus sampling", R::identity);
  field("rollout-batch", o.rollout_batch, "Sequences decoded together by the engine", R::identity);
  field("accuracy-weight", o.accuracy_weight, "Weight of the accuracy reward (the task's grader: 1 correct, 0 otherwise)", R::identity);
  field("format-weight", o.format_weight, "Weight of the format reward (1 when the completion has the think/answer structure)", R::identity);
  field("overlong-buffer", o.overlong_buffer, "DAPO's soft overlong penalty over the last N tokens before --max-new-tokens (0: off)", R::identity);
  field("overlong-weight", o.overlong_weight, "Weight of the overlong penalty", R::identity);
  field("code-reward", o.code_reward, "Code tasks' accuracy reward: all-pass (1 only when every test passes, as eval scores) or pass-rate (the share of tests passed; every test is run)", R::identity);
  field("language-weight", o.language_weight, "Weight of the language-consistency reward: the share of the reasoning's words in --language (R1; 0: off)", R::identity);
  field("language", o.language, "Target language of the language-consistency reward: en or zh", R::identity);
  field("scale-rewards", o.scale_rewards, "group: (r - group mean) / group std (GRPO); batch: / batch std (Lite-PPO); none: no division (Dr. GRPO)", R::identity);
  field("epsilon-low", o.epsilon_low, "PPO clip below: ratio >= 1 - epsilon-low", R::identity);
  field("epsilon-high", o.epsilon_high, "PPO clip above: ratio <= 1 + epsilon-high (DAPO's clip-higher: 0.28)", R::identity);
  field("beta", o.beta, "KL coefficient to the reference (the starting model); 0: no KL term and no reference in memory", R::identity);
  field("kl", o.kl, "KL estimator: k1, k2 or k3 (clamped to 10)", R::identity);
  field("loss-aggregation", o.loss_aggregation, "token-mean (DAPO), seq-mean-token-mean (GRPO), seq-mean-token-sum, or constant (Dr. GRPO)", R::identity);
  field("updates-per-rollout", o.updates_per_rollout, "mu: optimizer updates on each step's rollouts (more than 1 makes the ratio and clipping matter)", R::identity);
  field("dynamic-sampling", o.dynamic_sampling, "DAPO: drop groups whose rewards are all equal and draw more prompts", R::identity);
  field("max-draws", o.max_draws, "With --dynamic-sampling: at most this many draws of --prompts-per-step prompts per step", R::identity);
  field("mask-truncated", o.mask_truncated, "Overlong filtering: completions cut at --max-new-tokens are left out of the loss", R::identity);
  field("micro-batch-tokens", o.micro_batch_tokens, "Most tokens (prompt + completion) in one forward/backward pass", R::identity);
  field("shared-prompt", o.shared_prompt, "Compute each group's prompt once in the training forward, its completions attending to one copy (--no-shared-prompt: every sequence whole)", R::identity);
  visit_optimizer_fields(o, field);
  visit_device_fields(o, field);
  field("grading-workers", o.grading_workers, "Grading worker processes (0: every core)", R::operational);
  field("grading-deadline-s", o.grading_deadline_s, "Seconds one grading call may take before its worker is killed (reward 0)", R::operational);
  field("eval-task", o.eval_task, "Held-out task evaluated with `r1lab eval` on checkpoints (results in OUT/eval/step-N)", R::operational);
  field("eval-every", o.eval_every, "Steps between evaluations (0: only at the end)", R::operational);
  field("eval-limit", o.eval_limit, "Evaluate the first N problems (0: all)", R::operational);
  field("eval-samples", o.eval_samples, "Samples per problem in the evaluation", R::operational);
  field("eval-temperature", o.eval_temperature, "Evaluation temperature (0: greedy)", R::operational);
  visit_operational_fields(o, field);
}

// "train sft" or "train grpo", for messages.
inline const char* command_name(const SftOptions&) { return "train sft"; }
inline const char* command_name(const GrpoOptions&) { return "train grpo"; }

// The configuration as JSON, every field (the file the run writes as OUT/config.json).
template <class Options> nlohmann::json options_to_json(const Options& options);
// Sets the fields a JSON config names. Throws std::runtime_error naming `source` and the key on an
// unknown key or a value of the wrong type.
template <class Options> void apply_options_json(Options& options, const nlohmann::json& config, const std::string& source);
// "key: was X, now Y" for every identity field that differs; empty when a run may resume.
template <class Options> std::vector<std::string> identity_differences(const nlohmann::json& stored, const Options& current);
// Throw std::invalid_argument naming the flag for a value out of range.
void validate_options(const SftOptions& options);
void validate_options(const GrpoOptions& options);

}  // namespace r1lab::harness
