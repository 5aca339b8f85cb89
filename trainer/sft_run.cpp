// `r1lab train sft`: supervised fine-tuning, the distillation arm of the R1 ablation.
//
// One optimizer step: the next --batch-size sequences of the (seeded) data order, split into micro-batches
// of at most --micro-batch-tokens (packed: several sequences in one row, attention kept inside each);
// for each, the forward pass, the summed NLL of its loss tokens divided by the loss tokens of the whole
// step (so the gradient is that of the step's token mean, however it is split), backward into the flat
// gradient buffer; then global-norm clipping, AdamW, the schedule's learning rate.
// Checkpoints (trainer/checkpoint.h) every --save-every steps, at the end and on SIGINT/SIGTERM; the same
// command resumes from the newest one and continues exactly (bit for bit on the CPU): the data cursor,
// the optimizer's moments and step count, and the weights are all that the next step depends on.
//
// Departures from TRL's SFTTrainer defaults, all on purpose and all flags: lr 1e-5 (TRL 2e-5), cosine
// schedule (transformers: linear), no truncation unless asked (TRL truncates at 1024 silently).
#include "trainer/sft_run.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <malloc.h>

#include <csignal>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>

#include "harness/atomic_file.h"
#include "harness/run_lock.h"
#include "trainer/checkpoint.h"
#include "trainer/distributed.h"
#include "trainer/loaded_model.h"
#include "trainer/losses.h"
#include "trainer/optimizer.h"
#include "trainer/sft_batches.h"
#include "trainer/sft_data.h"
#include "trainer/train_log.h"

namespace r1lab::trainer {
namespace fs = std::filesystem;
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int signal) { g_stop_signal = signal; }

nlohmann::json read_json_file(const fs::path& file) {
  std::ifstream in(file);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(file.string() + ": not valid JSON: " + e.what());
  }
}

// The run folder must hold this configuration's run, or nothing yet. Every rank checks; rank 0 writes.
void claim_run_folder(const fs::path& out, const harness::SftOptions& options, bool write) {
  const fs::path config_file = out / "config.json";
  if (fs::exists(config_file)) {
    auto differences = harness::sft_identity_differences(read_json_file(config_file), options);
    if (!differences.empty()) {
      std::string list;
      for (const auto& d : differences) list += "\n  " + d;
      throw std::runtime_error(out.string() + " holds a training run with another configuration:" + list +
                               "\nUse another --out, or the same settings to resume it.");
    }
  }
  if (write) harness::write_file_atomically(config_file, harness::sft_options_to_json(options).dump(2) + "\n");
}

// After a ZeRO-1 update every rank has its own range of the new weights: gather all of them. The
// buffers are the step's gradient buffers, free by now (the shard's gradient is applied and the padded
// gradient buffer is zeroed before the next backward), so the gather costs no memory of its own.
void gather_parameters(CausalLM& model, const at::Tensor& master, at::Tensor& shard_buffer, at::Tensor& padded_buffer,
                       ProcessGroup& group) {
  at::NoGradGuard no_grad;
  shard_buffer.zero_();
  shard_buffer.narrow(0, 0, master.numel()).copy_(master);
  group.all_gather(shard_buffer, padded_buffer);
  model.flat_parameters().copy_(padded_buffer.narrow(0, 0, model.flat_parameters().numel()));
}

// The squared L2 norm in fp32 and without an fp32 copy of a bf16 gradient.
double squared_norm(const at::Tensor& grad) {
  if (grad.scalar_type() == at::kFloat) return grad.pow(2).sum().item<double>();
  const double norm = at::linalg_vector_norm(grad, 2, std::nullopt, false, at::kFloat).item<double>();
  return norm * norm;
}

// Where this rank's optimizer works in the flat buffer: everything, or under ZeRO-1 one of world_size
// equal ranges of the buffer padded to a multiple of world_size (the last may hold padding only).
struct OptimizerRange {
  bool sharded = false;
  std::int64_t padded = 0;    // flat elements, padded
  std::int64_t shard = 0;     // elements per rank (padded / world)
  std::int64_t begin = 0;     // this rank's first element
  std::int64_t length = 0;    // this rank's real elements (no padding)
};

OptimizerRange optimizer_range(std::int64_t total, const ProcessGroup& group, bool zero1) {
  OptimizerRange r;
  r.sharded = zero1 && group.world_size() > 1;
  const std::int64_t world = r.sharded ? group.world_size() : 1;
  r.shard = (total + world - 1) / world;
  r.padded = r.shard * world;
  r.begin = r.sharded ? r.shard * group.rank() : 0;
  r.length = std::clamp<std::int64_t>(total - r.begin, 0, r.shard);
  return r;
}

}  // namespace

void run_train_sft(const harness::SftOptions& o) {
  // Every step allocates and frees the same large tensors (logits, activations). glibc would map and
  // unmap each of them, so every step pays for page faults again (half of a small model's step time);
  // kept in the heap, the memory is reused.
  ::mallopt(M_MMAP_MAX, 0);
  ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());

  const fs::path out = o.out;
  at::Device device(o.device);
  auto group = ProcessGroup::from_environment(device, std::chrono::milliseconds(static_cast<std::int64_t>(o.dist_timeout_s * 1000)));
  const bool main_rank = group->is_main();
  if (group->world_size() > 1) {
    if (device.is_cuda()) device = at::Device(at::kCUDA, static_cast<at::DeviceIndex>(group->local_rank()));
    // Local ranks share the cores (torchrun sets OMP_NUM_THREADS=1 itself).
    if (!std::getenv("OMP_NUM_THREADS")) {
      at::set_num_threads(std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / group->local_world_size()));
    }
  }
  std::optional<harness::RunDirectoryLock> lock;
  if (main_rank) {
    fs::create_directories(out);
    lock.emplace(out);
  }
  group->barrier();
  claim_run_folder(out, o, main_rank);

  const std::string dtype = o.dtype == "auto" ? (device.is_cuda() ? "bfloat16" : "float32") : o.dtype;
  // Conversations need the chat template; plain text (--loss-on all) trains without one.
  const auto loaded = LoadedModel::load(o.model_dir, {device.str(), dtype, o.chat_template,
                                                      o.loss_on == "all" ? ChatTemplateUse::if_present : ChatTemplateUse::required});
  CausalLM* const model = &loaded->model();
  const ModelConfig& config = model->config();
  // The saved model keeps the dtype it came in (fp32 master weights go into the trainer state otherwise).
  const at::ScalarType save_dtype = dtype_from_name(config.torch_dtype);
  SftDataOptions data_options{o.loss_on == "all", o.max_seq_len, o.truncate,
                              config.eos_token_ids.empty() ? -1 : config.eos_token_ids.front()};
  const SftDataset data = load_sft_data(o.data, loaded->tokenizer(), loaded->chat(), data_options);
  const std::int64_t total_steps = o.max_steps > 0 ? o.max_steps : steps_per_epoch(data.examples.size(), o.batch_size) * o.epochs;

  // Parameters, gradients and the optimizer share the flat layout of the parameter table. The gradient
  // buffer is padded to a multiple of the world size for the reduce-scatter of ZeRO-1.
  const std::int64_t total = model->parameter_table().total_numel();
  const OptimizerRange range = optimizer_range(total, *group, o.zero1);
  at::Tensor grad_buffer = at::zeros({range.padded}, model->flat_parameters().options());
  model->attach_gradients(grad_buffer.narrow(0, 0, total));
  const bool separate_master = model->flat_parameters().scalar_type() != at::kFloat;
  at::Tensor own_parameters = model->flat_parameters().detach().narrow(0, range.begin, range.length);
  at::Tensor master = separate_master ? own_parameters.to(at::kFloat).clone() : own_parameters;
  AdamW optimizer(master, range.begin, model->parameter_table().decayed_numel(), {o.adam_beta1, o.adam_beta2, o.adam_eps, o.weight_decay});
  at::Tensor shard_grad = range.sharded ? at::zeros({range.shard}, grad_buffer.options()) : at::Tensor();
  const double optimizer_state_mib = static_cast<double>((separate_master ? 3 : 2) * range.length * 4) / (1024.0 * 1024.0);

  std::int64_t step = 0, skipped_steps = 0;
  DataCursor cursor;
  const fs::path checkpoints = out / "checkpoints";
  std::optional<fs::path> latest;
  if (main_rank) latest = latest_checkpoint(checkpoints);   // removes leftovers of an interrupted save
  group->barrier();
  if (!main_rank) latest = latest_checkpoint_readonly(checkpoints);
  if (latest) {
    nlohmann::json state = load_checkpoint(*latest, optimizer, range.begin, range.sharded, model->parameter_table(), *group);
    if (separate_master) {
      at::NoGradGuard no_grad;
      own_parameters.copy_(master);
    }
    if (range.sharded) gather_parameters(*model, master, shard_grad, grad_buffer, *group);
    step = state.at("step").get<std::int64_t>();
    cursor = {state.at("cursor").at("epoch").get<std::int64_t>(), state.at("cursor").at("index").get<std::int64_t>()};
    skipped_steps = state.value("skipped_steps", std::int64_t{0});
    if (main_rank) std::cerr << "r1lab train: resuming " << out.string() << " from " << latest->filename().string() << "\n";
  }
  std::optional<TrainLog> log;
  if (main_rank) {
    log.emplace(out / "metrics.jsonl", step, total_steps, o.progress, o.log_every_s);
    if (step == 0) {
      log->message(std::to_string(data.examples.size()) + " sequences from " + o.data +
                   (data.truncated ? ", " + std::to_string(data.truncated) + " truncated" : "") +
                   (data.dropped ? ", " + std::to_string(data.dropped) + " dropped (nothing left to learn after truncation)" : "") + "; " +
                   std::to_string(total_steps) + " steps of " + std::to_string(o.batch_size) + " on " + std::to_string(group->world_size()) +
                   " x " + device.str() + " in " + dtype + (range.sharded ? ", optimizer state sharded (ZeRO-1)" : ""));
    }
  }

  auto checkpoint_now = [&](std::int64_t at_step) {
    nlohmann::json state = {{"cursor", {{"epoch", cursor.epoch}, {"index", cursor.index}}}, {"skipped_steps", skipped_steps},
                            {"total_steps", total_steps}, {"world_size", group->world_size()}, {"config", harness::sft_options_to_json(o)}};
    return save_checkpoint(checkpoints, at_step, {*model, save_dtype, optimizer, range.begin, range.sharded, state}, o.keep_checkpoints, *group);
  };
  g_stop_signal = 0;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  const std::int64_t hidden = config.hidden_size;
  const auto bucket_elements = static_cast<std::int64_t>(o.bucket_mb * 1024 * 1024 / static_cast<double>(grad_buffer.element_size()));
  while (step < total_steps) {
    const auto started = std::chrono::steady_clock::now();
    const std::int64_t epoch = cursor.epoch;
    auto chosen = take_step_examples(data.examples.size(), o.seed, o.shuffle, o.batch_size, cursor);
    // The step's loss is the mean over all its loss tokens, on every rank: each rank divides its summed
    // NLL by the step's total, and the ranks' gradients are summed.
    std::int64_t tokens = 0, loss_tokens = 0;
    std::vector<std::size_t> mine;
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      const SftExample& e = data.examples[chosen[i]];
      tokens += static_cast<std::int64_t>(e.tokens.size());
      loss_tokens += e.loss_tokens();
      if (static_cast<int>(i % static_cast<std::size_t>(group->world_size())) == group->rank()) mine.push_back(chosen[i]);
    }
    auto micro_batches = make_micro_batches(data, mine, o.packing, o.micro_batch_tokens, device);
    grad_buffer.zero_();
    double loss = 0;
    for (const auto& mb : micro_batches) {
      at::Tensor states = model->train_hidden_states(mb.ids, mb.layout, o.activation_checkpointing);
      at::Tensor logits = model->lm_logits(states.view({-1, hidden}).index_select(0, mb.predict_from));
      at::Tensor micro_loss = summed_nll(logits, mb.targets, static_cast<double>(loss_tokens));
      micro_loss.backward();
      loss += micro_loss.item<double>();
    }
    loss = group->sum(loss);
    // This rank's gradient (the sum over ranks): its range under ZeRO-1, all of it otherwise.
    at::Tensor grad;
    double grad_norm = 0;
    if (range.sharded) {
      group->reduce_scatter_sum(grad_buffer, shard_grad);
      grad = shard_grad.narrow(0, 0, range.length);
      grad_norm = std::sqrt(group->sum(squared_norm(grad)));
    } else {
      group->all_reduce_sum(grad_buffer, bucket_elements);
      grad = grad_buffer.narrow(0, 0, total);
      grad_norm = std::sqrt(squared_norm(grad));
    }
    const double lr = o.lr * lr_multiplier(o.lr_schedule, step, o.warmup_steps, total_steps);
    bool skipped = false;
    if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
      if (!o.skip_nonfinite) {
        auto last = latest_checkpoint_readonly(checkpoints);
        throw std::runtime_error("step " + std::to_string(step + 1) + ": the loss is " + std::to_string(loss) + " and the gradient norm " +
                                 std::to_string(grad_norm) + "; the last good checkpoint is " +
                                 (last ? last->string() : std::string("none (from the start)")) +
                                 ". Lower --lr, or pass --skip-nonfinite to skip such steps.");
      }
      skipped = true;
      ++skipped_steps;
    } else {
      at::NoGradGuard no_grad;
      optimizer.step(grad, lr, o.max_grad_norm > 0 ? clip_factor(grad_norm, o.max_grad_norm) : 1.0);
      if (range.sharded) {
        gather_parameters(*model, master, shard_grad, grad_buffer, *group);
      } else if (separate_master) {
        own_parameters.copy_(master);
      }
    }
    ++step;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double epoch_progress = static_cast<double>(epoch) +
        (cursor.epoch > epoch ? 1.0 : static_cast<double>(cursor.index) / static_cast<double>(data.examples.size()));
    if (log) {
      log->step({{"step", step}, {"epoch", epoch_progress}, {"loss", loss}, {"grad_norm", grad_norm}, {"lr", lr},
                 {"tokens", tokens}, {"loss_tokens", loss_tokens}, {"sequences", chosen.size()}, {"micro_batches", micro_batches.size()},
                 {"tokens_per_s", static_cast<double>(tokens) / seconds}, {"seconds", seconds}, {"peak_memory_mib", peak_rss_mib()},
                 {"optimizer_state_mib", optimizer_state_mib}, {"world_size", group->world_size()},
                 {"skipped", skipped}, {"skipped_steps", skipped_steps}});
    }
    // Every rank stops at the same step: a signal seen by any rank stops all of them.
    const int stop_signal = static_cast<int>(group->max(static_cast<double>(g_stop_signal)));
    if ((o.save_every > 0 && step % o.save_every == 0) || step == total_steps || stop_signal) checkpoint_now(step);
    if (stop_signal) {
      if (log) {
        log->message("stopped by signal " + std::to_string(stop_signal) + " after step " + std::to_string(step) +
                     "; checkpoint saved; rerun the same command to resume");
      }
      group->shutdown();
      std::exit(128 + stop_signal);
    }
  }
  if (main_rank) {
    save_model_folder(out / "final", *model, save_dtype);
    log->finish();
    log->message("done: " + std::to_string(step) + " steps; the model is in " + (out / "final").string());
  }
  group->barrier();
  group->shutdown();
}

}  // namespace r1lab::trainer
