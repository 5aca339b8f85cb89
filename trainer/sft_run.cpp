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

#include <ATen/core/grad_mode.h>
#include <malloc.h>

#include <csignal>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>

#include "harness/atomic_file.h"
#include "harness/run_lock.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/chat_template.h"
#include "trainer/checkpoint.h"
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

// The run folder must hold this configuration's run, or nothing yet.
void claim_run_folder(const fs::path& out, const harness::SftOptions& options) {
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
  harness::write_file_atomically(config_file, harness::sft_options_to_json(options).dump(2) + "\n");
}

}  // namespace

void run_train_sft(const harness::SftOptions& o) {
  // Every step allocates and frees the same large tensors (logits, activations). glibc would map and
  // unmap each of them, so every step pays for page faults again (half of a small model's step time);
  // kept in the heap, the memory is reused.
  ::mallopt(M_MMAP_MAX, 0);
  ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  const fs::path out = o.out;
  fs::create_directories(out);
  harness::RunDirectoryLock lock(out);
  claim_run_folder(out, o);

  const at::Device device(o.device);
  const std::string dtype = o.dtype == "auto" ? (device.is_cuda() ? "bfloat16" : "float32") : o.dtype;
  std::unique_ptr<CausalLM> model = CausalLM::load(o.model_dir, {device, dtype});
  const ModelConfig& config = model->config();
  // The saved model keeps the dtype it came in (fp32 master weights go into the trainer state otherwise).
  const at::ScalarType save_dtype = dtype_from_name(config.torch_dtype);
  auto tokenizer = tokenizer::BpeTokenizer::load(o.model_dir);
  std::optional<tokenizer::ChatFormat> chat;
  try {
    chat = tokenizer::load_chat_format(o.model_dir, o.chat_template);
  } catch (const std::exception& e) {
    if (o.loss_on != "all") throw;   // plain text needs no template; conversations say so when they come
  }
  SftDataOptions data_options{o.loss_on == "all", o.max_seq_len, o.truncate,
                              config.eos_token_ids.empty() ? -1 : config.eos_token_ids.front()};
  const SftDataset data = load_sft_data(o.data, *tokenizer, chat ? &*chat : nullptr, data_options);
  const std::int64_t total_steps = o.max_steps > 0 ? o.max_steps : steps_per_epoch(data.examples.size(), o.batch_size) * o.epochs;

  // Parameters, gradients and the optimizer share the flat layout of the parameter table.
  at::Tensor flat_grad = at::zeros_like(model->flat_parameters());
  model->attach_gradients(flat_grad);
  const bool separate_master = model->flat_parameters().scalar_type() != at::kFloat;
  at::Tensor master = separate_master ? model->flat_parameters().detach().to(at::kFloat).clone() : model->flat_parameters().detach();
  AdamW optimizer(master, 0, model->parameter_table().decayed_numel(),
                  {o.adam_beta1, o.adam_beta2, o.adam_eps, o.weight_decay});

  std::int64_t step = 0, skipped_steps = 0;
  DataCursor cursor;
  const fs::path checkpoints = out / "checkpoints";
  if (auto latest = latest_checkpoint(checkpoints)) {
    nlohmann::json state = load_checkpoint(*latest, optimizer, model->parameter_table());
    if (separate_master) {
      at::NoGradGuard no_grad;
      model->flat_parameters().copy_(master);
    }
    step = state.at("step").get<std::int64_t>();
    cursor = {state.at("cursor").at("epoch").get<std::int64_t>(), state.at("cursor").at("index").get<std::int64_t>()};
    skipped_steps = state.value("skipped_steps", std::int64_t{0});
    std::cerr << "r1lab train: resuming " << out.string() << " from " << latest->filename().string() << "\n";
  }
  TrainLog log(out / "metrics.jsonl", step, total_steps, o.progress, o.log_every_s);
  if (step == 0) {
    log.message(std::to_string(data.examples.size()) + " sequences from " + o.data + (data.truncated ? ", " + std::to_string(data.truncated) + " truncated" : "") +
                (data.dropped ? ", " + std::to_string(data.dropped) + " dropped (nothing left to learn after truncation)" : "") +
                "; " + std::to_string(total_steps) + " steps of " + std::to_string(o.batch_size) + " on " + o.device + " in " + dtype);
  }

  auto checkpoint_now = [&](std::int64_t at_step) {
    nlohmann::json state = {{"cursor", {{"epoch", cursor.epoch}, {"index", cursor.index}}}, {"skipped_steps", skipped_steps},
                            {"total_steps", total_steps}, {"config", harness::sft_options_to_json(o)}};
    return save_checkpoint(checkpoints, at_step, {*model, save_dtype, optimizer, state}, o.keep_checkpoints);
  };
  g_stop_signal = 0;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  const std::int64_t hidden = config.hidden_size;
  while (step < total_steps) {
    const auto started = std::chrono::steady_clock::now();
    const std::int64_t epoch = cursor.epoch;
    auto chosen = take_step_examples(data.examples.size(), o.seed, o.shuffle, o.batch_size, cursor);
    auto micro_batches = make_micro_batches(data, chosen, o.packing, o.micro_batch_tokens, device);
    std::int64_t tokens = 0, loss_tokens = 0;
    for (const auto& mb : micro_batches) {
      tokens += mb.tokens;
      loss_tokens += mb.loss_tokens;
    }
    flat_grad.zero_();
    double loss = 0;
    for (const auto& mb : micro_batches) {
      at::Tensor states = model->train_hidden_states(mb.ids, mb.layout, o.activation_checkpointing);
      at::Tensor logits = model->lm_logits(states.view({-1, hidden}).index_select(0, mb.predict_from));
      at::Tensor micro_loss = summed_nll(logits, mb.targets, static_cast<double>(loss_tokens));
      micro_loss.backward();
      loss += micro_loss.item<double>();
    }
    at::Tensor grad = separate_master ? flat_grad.to(at::kFloat) : flat_grad;
    const double grad_norm = grad.norm().item<double>();
    const double lr = o.lr * lr_multiplier(o.lr_schedule, step, o.warmup_steps, total_steps);
    bool skipped = false;
    if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
      if (!o.skip_nonfinite) {
        auto last = latest_checkpoint(checkpoints);
        throw std::runtime_error("step " + std::to_string(step + 1) + ": the loss is " + std::to_string(loss) + " and the gradient norm " +
                                 std::to_string(grad_norm) + "; the last good checkpoint is " + (last ? last->string() : std::string("none (from the start)")) +
                                 ". Lower --lr, or pass --skip-nonfinite to skip such steps.");
      }
      skipped = true;
      ++skipped_steps;
    } else {
      at::NoGradGuard no_grad;
      if (o.max_grad_norm > 0) grad.mul_(clip_factor(grad_norm, o.max_grad_norm));
      optimizer.step(grad, lr);
      if (separate_master) model->flat_parameters().copy_(master);
    }
    ++step;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double epoch_progress = static_cast<double>(epoch) +
        (cursor.epoch > epoch ? 1.0 : static_cast<double>(cursor.index) / static_cast<double>(data.examples.size()));
    log.step({{"step", step}, {"epoch", epoch_progress}, {"loss", loss}, {"grad_norm", grad_norm}, {"lr", lr},
              {"tokens", tokens}, {"loss_tokens", loss_tokens}, {"sequences", chosen.size()}, {"micro_batches", micro_batches.size()},
              {"tokens_per_s", static_cast<double>(tokens) / seconds}, {"seconds", seconds}, {"peak_memory_mib", peak_rss_mib()},
              {"skipped", skipped}, {"skipped_steps", skipped_steps}});
    const bool stopping = g_stop_signal != 0;
    if ((o.save_every > 0 && step % o.save_every == 0) || step == total_steps || stopping) checkpoint_now(step);
    if (stopping) {
      log.message("stopped by signal " + std::to_string(g_stop_signal) + " after step " + std::to_string(step) +
                  "; checkpoint saved; rerun the same command to resume");
      std::exit(128 + g_stop_signal);
    }
  }
  save_model_folder(out / "final", *model, save_dtype);
  log.finish();
  log.message("done: " + std::to_string(step) + " steps; the model is in " + (out / "final").string());
}

}  // namespace r1lab::trainer
