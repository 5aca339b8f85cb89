#include "trainer/grpo_rollouts.h"

#include <cctype>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "tasks/grading/verdict.h"
#include "trainer/engine.h"

namespace r1lab::trainer {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// A chat template that opens the think tag for the model (R1-distill's) makes the format reward count it.
bool RolloutGenerator::opened_think(const std::vector<std::int64_t>& prompt) const {
  std::string tail;
  for (std::size_t i = prompt.size() >= 4 ? prompt.size() - 4 : 0; i < prompt.size(); ++i)
    tail += model_.tokenizer().token_bytes(static_cast<tokenizer::TokenId>(prompt[i]));
  while (!tail.empty() && std::isspace(static_cast<unsigned char>(tail.back()))) tail.pop_back();
  return tail.size() >= 7 && tail.compare(tail.size() - 7, 7, "<think>") == 0;
}

bool RolloutGroup::rewards_differ() const {
  for (const auto& s : samples)
    if (s.reward.total != samples.front().reward.total) return true;
  return false;
}

std::uint64_t rollout_seed(std::uint64_t run_seed, std::int64_t step, std::int64_t position, std::size_t problem, std::int64_t sample) {
  std::uint64_t seed = sample_seed(run_seed, static_cast<int>(step));
  seed = sample_seed(seed, static_cast<int>(position));
  seed = sample_seed(seed, static_cast<int>(problem));
  return sample_seed(seed, static_cast<int>(sample));
}

RolloutGenerator::RolloutGenerator(const LoadedModel& model, harness::GrpoEnvironment& environment, const harness::GrpoOptions& options)
    : model_(model), environment_(environment), options_(options) {
  rewards_.format = options.prompt_format == "r1-zero" ? tasks::FormatRule::think_answer : tasks::FormatRule::think;
  rewards_.accuracy_weight = options.accuracy_weight;
  rewards_.format_weight = options.format_weight;
  rewards_.overlong_weight = options.overlong_buffer > 0 ? options.overlong_weight : 0.0;
  rewards_.max_new_tokens = options.max_new_tokens;
  rewards_.overlong_buffer = options.overlong_buffer;
  rewards_.language_weight = options.language_weight;
  rewards_.language = tasks::language_from_name(options.language);
  rewards_.code_pass_rate = options.code_reward == "pass-rate";
  prompt_cache_.resize(environment.task.problems().size());
}

std::vector<std::int64_t> RolloutGenerator::prompt_ids(std::size_t problem, std::int64_t sample) {
  const tasks::Task& task = environment_.task;
  const bool varies = task.prompt_varies_per_sample();
  if (!varies && !prompt_cache_[problem].empty()) return prompt_cache_[problem];
  const tasks::Problem& p = task.problems()[problem];
  const std::string text = task.prompt(p, static_cast<std::uint64_t>(sample), environment_.grading).text;
  std::vector<std::int64_t> ids = options_.prompt_format == "chat" ? model_.chat_prompt_ids({{"user", text}})
                                                                   : model_.completion_prompt_ids(text);
  if (static_cast<std::int64_t>(ids.size()) + options_.max_new_tokens > options_.micro_batch_tokens) {
    throw std::invalid_argument(task.info().name + " problem " + p.id + ": its prompt (" + std::to_string(ids.size()) +
                                " tokens) and --max-new-tokens " + std::to_string(options_.max_new_tokens) +
                                " do not fit --micro-batch-tokens " + std::to_string(options_.micro_batch_tokens) +
                                "; raise --micro-batch-tokens or use --limit to leave such problems out");
  }
  if (!varies) prompt_cache_[problem] = ids;
  return ids;
}

void RolloutGenerator::check_prompts(std::size_t count) {
  for (std::size_t p = 0; p < count; ++p) prompt_ids(p, 0);
}

void RolloutGenerator::run(std::vector<RolloutGroup>& groups, std::int64_t step, RolloutTimes& times) {
  const tasks::Task& task = environment_.task;
  struct Slot {
    std::size_t group;
    std::int64_t sample;
  };
  std::vector<Slot> slots;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    groups[g].samples.assign(static_cast<std::size_t>(options_.group_size), {});
    for (std::int64_t s = 0; s < options_.group_size; ++s) slots.push_back({g, s});
  }
  Engine engine(model_.model(), model_.tokenizer());
  auto started = std::chrono::steady_clock::now();
  std::size_t submitted = 0, pulled = 0;
  // Continuous batching over the whole step (at most --rollout-batch decoding at once); each sample goes
  // to the grader the moment it finishes, so grading overlaps decoding.
  engine.stream(
      [&]() -> std::optional<GenerationSpec> {
        if (pulled == slots.size()) return std::nullopt;
        const Slot& slot = slots[pulled++];
        const RolloutGroup& group = groups[slot.group];
        GenerationSpec spec;
        spec.prompt = prompt_ids(group.problem, slot.sample);
        spec.sampling = {options_.temperature, options_.top_p, 0, rollout_seed(options_.seed, step, group.position, group.problem, slot.sample)};
        spec.max_new_tokens = options_.max_new_tokens;
        return spec;
      },
      options_.rollout_batch,
      [&](std::size_t i, GeneratedSequence&& out) {
        RolloutSample& sample = groups[slots[i].group].samples[static_cast<std::size_t>(slots[i].sample)];
        const std::size_t problem = groups[slots[i].group].problem;
        const auto sample_index = static_cast<std::uint64_t>(slots[i].sample);
        sample.prompt = prompt_ids(problem, slots[i].sample);
        sample.completion = std::move(out.tokens);
        sample.logprobs = std::move(out.sampling_logprobs);
        sample.text = std::move(out.text);
        sample.truncated = out.finish_reason == "length";
        // The job carries the real sample index (GPQA's choice order depends on it); the tag finds the slot.
        environment_.grader.submit({0, static_cast<std::uint32_t>(problem), sample_index, tasks::graded_text(sample.text, rewards_.format),
                                    task.prompt(task.problems()[problem], sample_index, environment_.grading).text, i});
        ++submitted;
      });
  times.generate_s += seconds_since(started);

  started = std::chrono::steady_clock::now();
  std::size_t received = 0;
  while (received < submitted) {
    auto finished = environment_.grader.take_finished();
    if (finished.empty()) {
      if (!environment_.grader.failure().empty()) throw std::runtime_error("grading: " + environment_.grader.failure());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    for (const auto& outcome : finished) {
      const Slot& slot = slots[outcome.tag];
      RolloutSample& sample = groups[slot.group].samples[static_cast<std::size_t>(slot.sample)];
      sample.reward = tasks::combine_reward(outcome.verdict, sample.text, static_cast<std::int64_t>(sample.completion.size()),
                                            opened_think(sample.prompt), rewards_);
      sample.verdict = std::string(grading::verdict_kind_name(outcome.verdict.kind));
      ++received;
    }
  }
  times.reward_s += seconds_since(started);
}

}  // namespace r1lab::trainer
