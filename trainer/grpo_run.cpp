// `r1lab train grpo`: GRPO, the R1-Zero arm of the R1 ablation.
//
// One step:
//   1. rollouts: the next --prompts-per-step problems of the (seeded) order, G samples each from the
//      engine on the live policy, rewarded by the task's grader (grpo_rollouts.h). Each rank generates
//      the groups at its positions (position % world == rank), so a group never spans ranks and its
//      advantages need no communication. With --dynamic-sampling (DAPO) groups whose rewards are all
//      equal are dropped and more problems drawn, up to --max-draws draws; the first --prompts-per-step
//      groups with differing rewards, in the global order, are kept.
//   2. advantages per group (grpo_objective.h); the sequences prompt + completion, completion tokens in
//      the loss (without the truncated ones under --mask-truncated), in micro-batches of at most
//      --micro-batch-tokens: a group's prompt once and its completions after it (grpo_batches.h), or
//      with --no-shared-prompt every sequence whole, packed;
//   3. old logprobs by the training forward at the rollout temperature, with the same micro-batches
//      (only when --updates-per-rollout > 1: with one update the old policy is the current one, and the
//      ratio is exactly 1); reference logprobs from the frozen starting model when --beta > 0;
//   4. --updates-per-rollout optimizer updates on the whole step's sequences, each the clipped surrogate
//      (+ beta KL) weighted by the aggregation over the step's totals on every rank, so micro-batching and
//      ranks do not change the gradient.
// Checkpoints, resume, signals and ranks are train sft's (training_run.h): the same command resumes,
// and since every rollout's seed derives from (seed, step, draw, problem, sample), the resumed run draws
// the same samples and ends with the same weights as an uninterrupted one.
#include "trainer/grpo_run.h"

#include <ATen/core/grad_mode.h>
#include <spawn.h>
#include <sys/wait.h>
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <optional>

#include "trainer/grpo_batches.h"
#include "trainer/grpo_objective.h"
#include "trainer/grpo_rollouts.h"
#include "trainer/loaded_model.h"
#include "trainer/losses.h"
#include "trainer/optimizer.h"
#include "trainer/sft_batches.h"
#include "trainer/train_log.h"
#include "trainer/training_run.h"

extern char** environ;

namespace r1lab::trainer {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// This rank's sequences of a step, ready for micro-batches, with what the loss needs per sequence.
struct TrainingBatch {
  SftDataset sequences;                         // prompt + completion; completion tokens are the targets
  std::vector<float> advantages;                // per sequence
  std::vector<const RolloutSample*> samples;    // per sequence
};

// A micro-batch's per-token tensors in the (sequences, longest completion) layout grpo_objective takes.
struct TokenLayout {
  std::int64_t sequences = 0, longest = 0;
  at::Tensor index;          // (N,) flat slot of each target token, in target order
  at::Tensor mask;           // (sequences, longest) bool
  at::Tensor advantages;     // (sequences,)
  at::Tensor rollout_logprobs;   // (N,) the engine's
  at::Tensor padded(const at::Tensor& flat) const {
    return at::zeros({sequences * longest}, flat.options()).index_put({index}, flat).view({sequences, longest});
  }
};

TokenLayout token_layout(const MicroBatch& mb, const TrainingBatch& batch, at::Device device) {
  TokenLayout layout;
  layout.sequences = static_cast<std::int64_t>(mb.examples.size());
  for (std::size_t e : mb.examples) layout.longest = std::max<std::int64_t>(layout.longest, batch.sequences.examples[e].loss_tokens());
  std::vector<std::int64_t> index;
  std::vector<float> advantages, rollout;
  std::vector<std::uint8_t> mask(static_cast<std::size_t>(layout.sequences * layout.longest), 0);
  for (std::size_t row = 0; row < mb.examples.size(); ++row) {
    const std::size_t e = mb.examples[row];
    const RolloutSample& sample = *batch.samples[e];
    for (std::size_t t = 0; t < sample.completion.size(); ++t) {
      const auto slot = static_cast<std::int64_t>(row) * layout.longest + static_cast<std::int64_t>(t);
      index.push_back(slot);
      mask[static_cast<std::size_t>(slot)] = 1;
    }
    rollout.insert(rollout.end(), sample.logprobs.begin(), sample.logprobs.end());
    advantages.push_back(batch.advantages[e]);
  }
  auto on = [&](at::Tensor t) { return t.to(device); };
  layout.index = on(at::tensor(index, at::kLong));
  layout.mask = on(at::tensor(mask, at::kByte).view({layout.sequences, layout.longest}).to(at::kBool));
  layout.advantages = on(at::tensor(advantages, at::kFloat));
  layout.rollout_logprobs = on(at::tensor(rollout, at::kFloat));
  return layout;
}

// The sampled tokens' logprobs (N,) of a micro-batch at the rollout temperature; the logits too, when asked.
at::Tensor micro_batch_logprobs(const CausalLM& model, const MicroBatch& mb, double temperature, bool checkpoint_layers,
                                at::Tensor* logits_out = nullptr) {
  at::Tensor states = model.train_hidden_states(mb.ids, mb.layout, checkpoint_layers);
  at::Tensor logits = model.lm_logits(states.view({-1, model.config().hidden_size}).index_select(0, mb.predict_from));
  if (logits_out) *logits_out = logits;
  return token_logprobs(logits, mb.targets, temperature);
}

// Mean entropy (summed over tokens) of softmax(logits / T).
double entropy_sum(const at::Tensor& logits, double temperature) {
  at::NoGradGuard no_grad;
  at::Tensor logp = at::log_softmax(logits.detach().to(at::kFloat) / temperature, -1);
  return -(logp.exp() * logp).sum().item<double>();
}

// Runs `r1lab eval` on a checkpoint: the same code, flags and results.json as a user's evaluation.
void evaluate_checkpoint(const harness::GrpoOptions& o, const harness::GrpoEnvironment& env, const fs::path& checkpoint,
                         std::int64_t step, TrainLog& log) {
  const fs::path folder = fs::path(o.out) / "eval" / ("step-" + std::to_string(step));
  fs::create_directories(folder.parent_path());
  std::vector<std::string> args = {env.r1lab_binary, "eval", "--backend", "builtin", "--model", checkpoint.string(),
                                   "--task", o.eval_task, "--out", folder.string(),
                                   "-n", std::to_string(o.eval_samples), "--temperature", std::to_string(o.eval_temperature),
                                   "--top-p", "1", "--max-tokens", std::to_string(o.max_new_tokens), "--progress", "none",
                                   "--device", o.device, "--label", "step-" + std::to_string(step)};
  if (o.prompt_format == "r1-zero") {
    args.insert(args.end(), {"--api", "completions", "--template", "r1_zero"});
  } else if (!o.chat_template.empty()) {
    args.insert(args.end(), {"--chat-template", o.chat_template});
  }
  if (o.eval_limit > 0) args.insert(args.end(), {"--limit", std::to_string(o.eval_limit)});
  // The data directory training found; none when it found none (a generated task needs none): eval then
  // searches as it always does.
  if (fs::is_directory(env.data_dir)) args.insert(args.end(), {"--data-dir", env.data_dir});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_file = folder.string() + ".log";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Its own process group: Ctrl-C stops training (which saves and exits after the evaluation), not the
  // evaluation half-way.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  int status = 0;
  if (spawned != 0 || ::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    log.message("evaluation at step " + std::to_string(step) + " failed; see " + log_file + " (training goes on)");
    return;
  }
  const fs::path results = folder / o.eval_task / "results.json";
  nlohmann::json line = {{"step", step}, {"task", o.eval_task}, {"results", results.string()}};
  try {
    const nlohmann::json r = read_json_file(results);
    for (const auto& m : r.at("metrics"))
      if (m.at("name") == "pass@1") line["pass@1"] = m.at("value"), line["pass@1_stderr"] = m.value("stderr", 0.0);
  } catch (const std::exception& e) {
    log.message("evaluation at step " + std::to_string(step) + ": " + results.string() + " unreadable (" + e.what() + "); training goes on");
    return;
  }
  std::ofstream(fs::path(o.out) / "eval.jsonl", std::ios::app) << line.dump() << "\n";
  log.message("eval step " + std::to_string(step) + ": " + o.eval_task + " pass@1 " + line.value("pass@1", nlohmann::json(0.0)).dump());
}

bool is_eval_step(const harness::GrpoOptions& o, std::int64_t step) {
  if (o.eval_task.empty()) return false;
  return step == o.max_steps || (o.eval_every > 0 && step % o.eval_every == 0);
}

}  // namespace

void run_train_grpo(const harness::GrpoOptions& o, harness::GrpoEnvironment& env) {
  keep_step_buffers_in_heap();

  const fs::path out = o.out;
  Ranks ranks = join_ranks(o.device, o.dist_timeout_s);
  ProcessGroup* const group = ranks.group.get();
  const at::Device device = ranks.device;
  const bool main_rank = group->is_main();
  // The task's version and data are part of the run: a changed prompt or dataset is another experiment.
  nlohmann::json config = harness::options_to_json(o);
  config["task_version"] = env.task.info().version;
  config["dataset_sha256"] = env.task.dataset_sha256();
  const auto lock = open_run_folder(out, *group, config, [&](const nlohmann::json& stored) {
    auto differences = harness::identity_differences(stored, o);
    for (const char* key : {"task_version", "dataset_sha256"}) {
      if (stored.value(key, nlohmann::json()) != config[key]) {
        differences.push_back(std::string(key) + ": was " + stored.value(key, nlohmann::json()).dump() + ", now " + config[key].dump());
      }
    }
    return differences;
  });

  const std::string dtype = compute_dtype(o.dtype, device);
  const auto loaded = LoadedModel::load(o.model_dir, {device.str(), dtype, o.chat_template,
                                                      o.prompt_format == "chat" ? ChatTemplateUse::required : ChatTemplateUse::if_present});
  CausalLM& model = loaded->model();
  const at::ScalarType save_dtype = dtype_from_name(model.config().torch_dtype);
  // The reference is the starting model, frozen; with beta 0 it is never needed and never loaded.
  std::unique_ptr<CausalLM> reference;
  if (o.beta > 0) reference = CausalLM::load(o.model_dir, {device, dtype});

  const std::size_t problem_count = o.limit > 0 ? static_cast<std::size_t>(o.limit) : env.task.problems().size();
  ParameterUpdater updater(model, *group, {o.zero1, o.bucket_mb, {o.adam_beta1, o.adam_beta2, o.adam_eps, o.weight_decay}});
  std::int64_t step = 0, skipped_updates = 0;
  DataCursor cursor;
  const fs::path checkpoints = out / "checkpoints";
  fs::path resumed_from;
  if (auto state = updater.resume(checkpoints, &resumed_from)) {
    step = state->at("step").get<std::int64_t>();
    cursor = {state->at("cursor").at("epoch").get<std::int64_t>(), state->at("cursor").at("index").get<std::int64_t>()};
    skipped_updates = state->value("skipped_updates", std::int64_t{0});
    if (main_rank) std::cerr << "r1lab train: resuming " << out.string() << " from " << resumed_from.filename().string() << "\n";
  }
  std::optional<TrainLog> log;
  if (main_rank) {
    log.emplace(out / "metrics.jsonl", step, o.max_steps, o.progress, o.log_every_s);
    if (step == 0) {
      log->message(env.task.info().name + ": " + std::to_string(problem_count) + " problems; " + std::to_string(o.max_steps) + " steps of " +
                   std::to_string(o.prompts_per_step) + " prompts x " + std::to_string(o.group_size) + " samples on " +
                   std::to_string(group->world_size()) + " x " + device.str() + " in " + dtype +
                   (reference ? ", reference model loaded (beta " + std::to_string(o.beta) + ")" : ", no reference (beta 0)"));
    }
  }
  auto checkpoint_now = [&](std::int64_t at_step) {
    nlohmann::json state = {{"cursor", {{"epoch", cursor.epoch}, {"index", cursor.index}}}, {"skipped_updates", skipped_updates},
                            {"total_steps", o.max_steps}, {"config", config}};
    return updater.save(checkpoints, at_step, save_dtype, std::move(state), o.keep_checkpoints);
  };
  // A run stopped between a checkpoint and its evaluation (or during it) evaluates it now, for every
  // checkpoint still on disk.
  if (main_rank && step > 0 && !o.eval_task.empty() && fs::exists(checkpoints)) {
    std::vector<std::pair<std::int64_t, fs::path>> pending;
    for (const auto& entry : fs::directory_iterator(checkpoints)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind("step-", 0) != 0 || name.find('.') != std::string::npos) continue;
      const std::int64_t at = std::stoll(name.substr(5));
      if (at <= step && is_eval_step(o, at) && !fs::exists(out / "eval" / name / o.eval_task / "results.json")) pending.emplace_back(at, entry.path());
    }
    std::sort(pending.begin(), pending.end());
    for (const auto& [at, path] : pending) evaluate_checkpoint(o, env, path, at, *log);
  }
  install_stop_signals();

  RolloutGenerator generator(*loaded, env, o);
  generator.check_prompts(problem_count);
  const ObjectiveSettings objective{o.epsilon_low, o.epsilon_high, o.beta, kl_estimator_from_name(o.kl)};
  const RewardScaling scaling = reward_scaling_from_name(o.scale_rewards);
  const LossAggregation aggregation = loss_aggregation_from_name(o.loss_aggregation);
  const std::int64_t G = o.group_size;

  while (step < o.max_steps) {
    const auto started = Clock::now();
    const double epoch_at_start = static_cast<double>(cursor.epoch) + static_cast<double>(cursor.index) / static_cast<double>(problem_count);

    // 1. Rollouts and rewards, drawing more under dynamic sampling.
    RolloutTimes times;
    std::vector<RolloutGroup> groups;
    std::vector<double> differs;   // per global position: the group's rewards differ (summed over ranks)
    std::int64_t draws = 0;
    while (true) {
      const std::int64_t base = static_cast<std::int64_t>(differs.size());
      // The next prompts_per_step problems of the order, into the next epoch when this one ends.
      std::vector<std::size_t> chosen;
      while (static_cast<std::int64_t>(chosen.size()) < o.prompts_per_step) {
        auto more = take_step_examples(problem_count, o.seed, o.shuffle, o.prompts_per_step - static_cast<std::int64_t>(chosen.size()), cursor);
        chosen.insert(chosen.end(), more.begin(), more.end());
      }
      std::vector<RolloutGroup> drawn;
      for (std::size_t i = 0; i < chosen.size(); ++i) {
        const std::int64_t position = base + static_cast<std::int64_t>(i);
        if (position % group->world_size() == group->rank()) drawn.push_back({chosen[i], position, {}});
      }
      generator.run(drawn, step, times);
      std::vector<double> flags(chosen.size(), 0.0);
      for (const auto& g : drawn) flags[static_cast<std::size_t>(g.position - base)] = g.rewards_differ() ? 1.0 : 0.0;
      flags = group->sum(flags);
      differs.insert(differs.end(), flags.begin(), flags.end());
      for (auto& g : drawn) groups.push_back(std::move(g));
      ++draws;
      if (!o.dynamic_sampling) break;
      const double kept = std::count(differs.begin(), differs.end(), 1.0);
      if (kept >= static_cast<double>(o.prompts_per_step) || draws >= o.max_draws) break;
    }
    const double drawn_groups = static_cast<double>(differs.size());
    const double zero_std_groups = drawn_groups - static_cast<double>(std::count(differs.begin(), differs.end(), 1.0));

    // Statistics of every sample drawn (the policy as it is), before any group is dropped.
    std::vector<double> sums(10, 0.0), maxima(1, 0.0);   // samples, total, total², accuracy, format, overlong, length, truncated, no-answer, language
    for (const auto& g : groups) {
      for (const auto& s : g.samples) {
        sums[0] += 1;
        sums[1] += s.reward.total;
        sums[2] += s.reward.total * s.reward.total;
        sums[3] += s.reward.accuracy;
        sums[4] += s.reward.format;
        sums[5] += s.reward.overlong;
        sums[6] += static_cast<double>(s.completion.size());
        sums[7] += s.truncated ? 1 : 0;
        sums[8] += s.verdict == "no_answer" ? 1 : 0;
        sums[9] += s.reward.language;
        maxima[0] = std::max(maxima[0], static_cast<double>(s.completion.size()));
      }
    }
    sums = group->sum(sums);
    maxima = group->max(maxima);

    // Which groups train: all of them, or under dynamic sampling the first prompts_per_step that differ.
    std::vector<bool> trains(differs.size(), !o.dynamic_sampling);
    if (o.dynamic_sampling) {
      std::int64_t taken = 0;
      for (std::size_t p = 0; p < differs.size() && taken < o.prompts_per_step; ++p) {
        if (differs[p] == 1.0) trains[p] = true, ++taken;
      }
    }
    std::erase_if(groups, [&](const RolloutGroup& g) { return !trains[static_cast<std::size_t>(g.position)]; });

    // 2. Advantages and sequences.
    std::vector<float> rewards;
    for (const auto& g : groups)
      for (const auto& s : g.samples) rewards.push_back(static_cast<float>(s.reward.total));
    at::Tensor advantages;
    if (!rewards.empty()) {
      at::Tensor r = at::tensor(rewards, at::kFloat);
      if (scaling == RewardScaling::batch) {
        // Lite-PPO: the batch's std over every rank's kept samples.
        auto moments = group->sum(std::vector<double>{static_cast<double>(rewards.size()), r.sum().item<double>(), r.pow(2).sum().item<double>()});
        const double n = moments[0];
        const double var = n > 1 ? std::max(0.0, (moments[2] - moments[1] * moments[1] / n) / (n - 1)) : 0.0;
        advantages = group_advantages(r, G, RewardScaling::none) / (std::sqrt(var) + 1e-4);
      } else {
        advantages = group_advantages(r, G, scaling);
      }
    } else if (scaling == RewardScaling::batch) {
      group->sum(std::vector<double>{0, 0, 0});   // the other ranks' collective
    }
    TrainingBatch batch;
    std::vector<PromptGroup> prompt_groups;   // the same sequences by group, for the shared-prompt forward
    if (advantages.defined()) advantages = advantages.contiguous();
    const float* advantage_of = advantages.defined() ? advantages.data_ptr<float>() : nullptr;
    std::size_t k = 0;
    for (const auto& g : groups) {
      PromptGroup prompt_group;
      for (const auto& s : g.samples) {
        const float advantage = advantage_of ? advantage_of[k] : 0.0f;
        ++k;
        if (o.mask_truncated && s.truncated) continue;
        if (!prompt_group.prompt) prompt_group.prompt = &s.prompt;
        prompt_group.sequences.push_back(batch.sequences.examples.size());
        prompt_group.completions.push_back(&s.completion);
        SftExample e;
        e.tokens = s.prompt;
        e.tokens.insert(e.tokens.end(), s.completion.begin(), s.completion.end());
        e.target.assign(s.prompt.size(), 0);
        e.target.resize(e.tokens.size(), 1);
        batch.sequences.examples.push_back(std::move(e));
        batch.advantages.push_back(advantage);
        batch.samples.push_back(&s);
      }
      if (prompt_group.prompt) prompt_groups.push_back(std::move(prompt_group));
    }
    std::vector<std::size_t> order(batch.sequences.examples.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    auto micro_batches = o.shared_prompt ? make_shared_prompt_micro_batches(prompt_groups, o.micro_batch_tokens, device)
                                         : make_micro_batches(batch.sequences, order, /*packing=*/true, o.micro_batch_tokens, device);
    std::vector<TokenLayout> layouts;
    double my_tokens = 0;
    for (const auto& mb : micro_batches) {
      layouts.push_back(token_layout(mb, batch, device));
      my_tokens += static_cast<double>(mb.loss_tokens);
    }
    auto totals_vector = group->sum(std::vector<double>{static_cast<double>(batch.sequences.examples.size()), my_tokens,
                                                        static_cast<double>(groups.size())});
    const double groups_trained = totals_vector[2];
    const StepTotals totals{totals_vector[0], totals_vector[1], static_cast<double>(o.max_new_tokens)};

    // 3. Old and reference logprobs, with the same micro-batches as the update.
    double old_s = 0, reference_s = 0;
    std::vector<at::Tensor> old_logprobs(micro_batches.size()), reference_logprobs(micro_batches.size());
    if (o.updates_per_rollout > 1) {
      const auto t = Clock::now();
      at::NoGradGuard no_grad;
      for (std::size_t m = 0; m < micro_batches.size(); ++m) old_logprobs[m] = micro_batch_logprobs(model, micro_batches[m], o.temperature, false);
      old_s = seconds_since(t);
    }
    if (reference) {
      const auto t = Clock::now();
      at::NoGradGuard no_grad;
      for (std::size_t m = 0; m < micro_batches.size(); ++m) reference_logprobs[m] = micro_batch_logprobs(*reference, micro_batches[m], o.temperature, false);
      reference_s = seconds_since(t);
    }

    // 4. The updates.
    const auto update_started = Clock::now();
    // Ratio and clip statistics over every update (the first has ratio 1 exactly); the KL, entropy and
    // logprob gaps of the first (the policy that sampled the rollouts).
    std::vector<double> token_sums(6, 0.0), token_maxima(3, 0.0);   // sums: ratio, low, high, kl, entropy, |gap|; maxima: ratio, |gap|, |old gap|
    double loss = 0, grad_norm = 0, lr = 0;
    bool skipped = false;
    for (std::int64_t u = 0; u < o.updates_per_rollout; ++u) {
      updater.zero_grad();
      double my_loss = 0;
      for (std::size_t m = 0; m < micro_batches.size(); ++m) {
        const MicroBatch& mb = micro_batches[m];
        const TokenLayout& layout = layouts[m];
        at::Tensor logits;
        at::Tensor logp = micro_batch_logprobs(model, mb, o.temperature, o.activation_checkpointing, &logits);
        at::Tensor old = o.updates_per_rollout > 1 ? old_logprobs[m] : logp.detach();
        at::Tensor weights = aggregation_weights(layout.mask, aggregation, totals);
        ObjectiveTerms terms = grpo_objective(layout.padded(logp), layout.padded(old),
                                              reference ? layout.padded(reference_logprobs[m]) : at::Tensor(), layout.advantages,
                                              weights, objective);
        terms.loss.backward();
        my_loss += terms.loss.item<double>();
        at::NoGradGuard no_grad;
        at::Tensor ratio = terms.ratio.masked_select(layout.mask);
        token_sums[0] += ratio.sum().item<double>();
        token_sums[1] += terms.low_clipped.logical_and(layout.mask).sum().item<double>();
        token_sums[2] += terms.high_clipped.logical_and(layout.mask).sum().item<double>();
        if (ratio.numel() > 0) token_maxima[0] = std::max(token_maxima[0], ratio.max().item<double>());
        if (u == 0 && ratio.numel() > 0) {
          at::Tensor gap = (logp.detach() - layout.rollout_logprobs).abs();
          if (terms.kl.defined()) token_sums[3] += terms.kl.masked_select(layout.mask).sum().item<double>();
          token_sums[4] += entropy_sum(logits, o.temperature);
          token_sums[5] += gap.sum().item<double>();
          token_maxima[1] = std::max(token_maxima[1], gap.max().item<double>());
          token_maxima[2] = std::max(token_maxima[2], (logp.detach() - old).abs().max().item<double>());
        }
      }
      grad_norm = updater.reduce_gradients();
      loss = group->sum(my_loss);
      lr = o.lr * lr_multiplier(o.lr_schedule, step, o.warmup_steps, o.max_steps);   // one rate for the step's updates
      if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
        if (!o.skip_nonfinite) throw nonfinite_error(step, loss, grad_norm, checkpoints, "updates");
        skipped = true;
        ++skipped_updates;
        continue;
      }
      if (totals.sequences > 0) updater.apply(lr, o.max_grad_norm > 0 ? clip_factor(grad_norm, o.max_grad_norm) : 1.0);
    }
    token_sums = group->sum(token_sums);
    token_maxima = group->max(token_maxima);
    const double update_s = seconds_since(update_started);
    ++step;

    if (log) {
      const double samples = std::max(sums[0], 1.0), tokens = std::max(totals.tokens, 1.0);
      const double updated_tokens = tokens * static_cast<double>(o.updates_per_rollout);
      const double mean = sums[1] / samples;
      const double variance = sums[0] > 1 ? std::max(0.0, (sums[2] - sums[1] * sums[1] / sums[0]) / (sums[0] - 1)) : 0.0;
      const double seconds = seconds_since(started);
      nlohmann::json m = {
          {"step", step}, {"epoch", epoch_at_start}, {"loss", loss}, {"grad_norm", grad_norm}, {"lr", lr},
          {"reward", mean}, {"reward_std", std::sqrt(variance)}, {"reward_accuracy", sums[3] / samples},
          {"reward_format", sums[4] / samples}, {"reward_overlong", sums[5] / samples},
          {"reward_language", o.language_weight > 0 ? nlohmann::json(sums[9] / samples) : nlohmann::json(nullptr)}, {"accuracy", sums[3] / samples},
          {"no_answer_rate", sums[8] / samples},
          {"groups_drawn", drawn_groups}, {"draws", draws}, {"zero_std_fraction", drawn_groups > 0 ? zero_std_groups / drawn_groups : 0.0},
          {"groups_trained", groups_trained}, {"sequences_trained", totals.sequences},
          {"loss_tokens", totals.tokens},
          {"response_length_mean", sums[6] / samples}, {"response_length_max", maxima[0]}, {"truncation_rate", sums[7] / samples},
          {"entropy", token_sums[4] / tokens}, {"kl", reference ? nlohmann::json(token_sums[3] / tokens) : nlohmann::json(nullptr)},
          {"clip_low_fraction", token_sums[1] / updated_tokens}, {"clip_high_fraction", token_sums[2] / updated_tokens},
          {"ratio_mean", token_sums[0] / updated_tokens}, {"ratio_max", token_maxima[0]},
          {"logprob_gap_mean", token_sums[5] / tokens}, {"logprob_gap_max", token_maxima[1]}, {"old_logprob_gap_max", token_maxima[2]},
          {"rollout_s", times.generate_s}, {"reward_s", times.reward_s}, {"old_logprobs_s", old_s}, {"reference_s", reference_s},
          {"update_s", update_s}, {"seconds", seconds},
          {"tokens_per_s", sums[6] / seconds}, {"rollout_tokens_per_s", times.generate_s > 0 ? sums[6] / times.generate_s : 0.0},
          {"peak_memory_mib", peak_rss_mib()}, {"optimizer_state_mib", updater.optimizer_state_mib()},
          {"world_size", group->world_size()}, {"skipped", skipped}, {"skipped_updates", skipped_updates}};
      log->step(m);
    }
    int stop_signal = stop_signal_on_any_rank(*group);
    const bool evaluate = is_eval_step(o, step);
    std::optional<fs::path> saved;
    if ((o.save_every > 0 && step % o.save_every == 0) || step == o.max_steps || stop_signal || evaluate) saved = checkpoint_now(step);
    if (evaluate) {
      if (main_rank) evaluate_checkpoint(o, env, *saved, step, *log);
      stop_signal = stop_signal_on_any_rank(*group);   // a signal that came during the evaluation
    }
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
    save_model_folder(out / "final", model, save_dtype);
    log->finish();
    log->message("done: " + std::to_string(step) + " steps; the model is in " + (out / "final").string());
  }
  group->barrier();
  group->shutdown();
}

}  // namespace r1lab::trainer
