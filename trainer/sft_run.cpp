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

#include <csignal>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "harness/atomic_file.h"
#include "trainer/loaded_model.h"
#include "trainer/losses.h"
#include "trainer/optimizer.h"
#include "trainer/sft_batches.h"
#include "trainer/sft_data.h"
#include "trainer/train_log.h"
#include "trainer/training_run.h"

namespace r1lab::trainer {
namespace fs = std::filesystem;

void run_train_sft(const harness::SftOptions& o) {
  keep_step_buffers_in_heap();

  const fs::path out = o.out;
  Ranks ranks = join_ranks(o.device, o.dist_timeout_s);
  ProcessGroup* const group = ranks.group.get();
  const at::Device device = ranks.device;
  const bool main_rank = group->is_main();
  const auto lock = open_run_folder(out, *group, harness::options_to_json(o),
                                    [&](const nlohmann::json& stored) { return harness::identity_differences(stored, o); });

  const std::string dtype = compute_dtype(o.dtype, device);
  // Conversations need the chat template (load_sft_data says so at the first one); plain text and a
  // base model's prompt-completion pairs train without one.
  const auto loaded = LoadedModel::load(o.model_dir, {device.str(), dtype, o.chat_template, ChatTemplateUse::if_present});
  CausalLM* const model = &loaded->model();
  const ModelConfig& config = model->config();
  // The saved model keeps the dtype it came in (fp32 master weights go into the trainer state otherwise).
  const at::ScalarType save_dtype = dtype_from_name(config.torch_dtype);
  SftDataOptions data_options{o.loss_on == "all", o.max_seq_len, o.truncate,
                              config.eos_token_ids.empty() ? -1 : config.eos_token_ids.front()};
  const SftDataset data = load_sft_data(o.data, loaded->tokenizer(), loaded->chat(), data_options);
  const std::int64_t total_steps = o.max_steps > 0 ? o.max_steps : steps_per_epoch(data.examples.size(), o.batch_size) * o.epochs;

  ParameterUpdater updater(*model, *group, {o.zero1, o.bucket_mb, {o.adam_beta1, o.adam_beta2, o.adam_eps, o.weight_decay}});
  std::int64_t step = 0, skipped_steps = 0;
  DataCursor cursor;
  const fs::path checkpoints = out / "checkpoints";
  fs::path resumed_from;
  if (auto state = updater.resume(checkpoints, &resumed_from)) {
    step = state->at("step").get<std::int64_t>();
    cursor = {state->at("cursor").at("epoch").get<std::int64_t>(), state->at("cursor").at("index").get<std::int64_t>()};
    skipped_steps = state->value("skipped_steps", std::int64_t{0});
    if (main_rank) std::cerr << "r1lab train: resuming " << out.string() << " from " << resumed_from.filename().string() << "\n";
  }
  std::optional<TrainLog> log;
  if (main_rank) {
    log.emplace(out / "metrics.jsonl", step, total_steps, o.progress, o.log_every_s);
    if (step == 0) {
      log->message(std::to_string(data.examples.size()) + " sequences from " + o.data +
                   (data.truncated ? ", " + std::to_string(data.truncated) + " truncated" : "") +
                   (data.dropped ? ", " + std::to_string(data.dropped) + " dropped (nothing left to learn after truncation)" : "") + "; " +
                   std::to_string(total_steps) + " steps of " + std::to_string(o.batch_size) + " on " + std::to_string(group->world_size()) +
                   " x " + device.str() + " in " + dtype + (updater.sharded() ? ", optimizer state sharded (ZeRO-1)" : ""));
    }
  }

  auto checkpoint_now = [&](std::int64_t at_step) {
    nlohmann::json state = {{"cursor", {{"epoch", cursor.epoch}, {"index", cursor.index}}}, {"skipped_steps", skipped_steps},
                            {"total_steps", total_steps}, {"config", harness::options_to_json(o)}};
    return updater.save(checkpoints, at_step, save_dtype, std::move(state), o.keep_checkpoints);
  };
  install_stop_signals();

  const std::int64_t hidden = config.hidden_size;
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
    updater.zero_grad();
    double loss = 0;
    for (const auto& mb : micro_batches) {
      at::Tensor states = model->train_hidden_states(mb.ids, mb.layout, o.activation_checkpointing);
      at::Tensor logits = model->lm_logits(states.view({-1, hidden}).index_select(0, mb.predict_from));
      at::Tensor micro_loss = summed_nll(logits, mb.targets, static_cast<double>(loss_tokens));
      micro_loss.backward();
      loss += micro_loss.item<double>();
    }
    loss = group->sum(loss);
    const double grad_norm = updater.reduce_gradients();
    const double lr = o.lr * lr_multiplier(o.lr_schedule, step, o.warmup_steps, total_steps);
    bool skipped = false;
    if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
      if (!o.skip_nonfinite) throw nonfinite_error(step, loss, grad_norm, checkpoints, "steps");
      skipped = true;
      ++skipped_steps;
    } else {
      updater.apply(lr, o.max_grad_norm > 0 ? clip_factor(grad_norm, o.max_grad_norm) : 1.0);
    }
    ++step;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double epoch_progress = static_cast<double>(epoch) +
        (cursor.epoch > epoch ? 1.0 : static_cast<double>(cursor.index) / static_cast<double>(data.examples.size()));
    if (log) {
      log->step({{"step", step}, {"epoch", epoch_progress}, {"loss", loss}, {"grad_norm", grad_norm}, {"lr", lr},
                 {"tokens", tokens}, {"loss_tokens", loss_tokens}, {"sequences", chosen.size()}, {"micro_batches", micro_batches.size()},
                 {"tokens_per_s", static_cast<double>(tokens) / seconds}, {"seconds", seconds}, {"peak_memory_mib", peak_rss_mib()},
                 {"optimizer_state_mib", updater.optimizer_state_mib()}, {"world_size", group->world_size()},
                 {"skipped", skipped}, {"skipped_steps", skipped_steps}});
    }
    // Every rank stops at the same step: a signal seen by any rank stops all of them.
    const int stop_signal = stop_signal_on_any_rank(*group);
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
