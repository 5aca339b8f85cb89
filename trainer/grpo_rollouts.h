// trainer/grpo_rollouts.h — GRPO's rollouts: G samples of each prompt from the built-in engine on the live
// policy (the weights being trained, no copy), and their rewards from the task's own grader.
//
// Every sample is reproducible on its own: its seed derives from (run seed, step, the group's position in
// the step, problem, sample)
// and the sampler's draws from (seed, token index) only, so a resumed run draws the same samples, and a
// sample does not depend on which rank or batch generated it (up to the rounding of batched kernels).
// Logprobs: the engine returns each sampled token's logprob under softmax(logits / temperature), the
// distribution the token was drawn from before top-p; the training forward scores tokens at the same
// temperature, so the two agree to rounding (docs/training.md).
// Rewards: each chunk of samples goes to the grading process as soon as it is generated, so grading
// overlaps the next chunk's decoding; a timeout, a crash or an unparsable answer is a verdict (reward 0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "harness/grpo_environment.h"
#include "harness/train_options.h"
#include "tasks/rewards.h"
#include "trainer/loaded_model.h"

namespace r1lab::trainer {

struct RolloutSample {
  std::vector<std::int64_t> prompt;       // token ids
  std::vector<std::int64_t> completion;   // sampled ids, including the EOS that ended it
  std::vector<float> logprobs;            // of each completion token, at the rollout temperature
  std::string text;
  bool truncated = false;                 // cut at --max-new-tokens
  tasks::Reward reward;
  std::string verdict;                    // the grader's verdict kind (correct, wrong, no_answer, timeout, ...)
};

struct RolloutGroup {
  std::size_t problem = 0;                // index into the task's problems
  std::int64_t position = 0;              // its place in the step's global order of groups (draw-major)
  std::vector<RolloutSample> samples;     // G of them
  bool rewards_differ() const;            // false: every advantage is 0
};

struct RolloutTimes {
  double generate_s = 0;   // decoding
  double reward_s = 0;     // waiting for verdicts after the last chunk
};

std::uint64_t rollout_seed(std::uint64_t run_seed, std::int64_t step, std::int64_t position, std::size_t problem, std::int64_t sample);

class RolloutGenerator {
 public:
  RolloutGenerator(const LoadedModel& model, harness::GrpoEnvironment& environment, const harness::GrpoOptions& options);
  // Fills every group's samples (their `problem` set) and rewards them.
  void run(std::vector<RolloutGroup>& groups, std::int64_t step, RolloutTimes& times);
  // The prompt ids of a problem's sample (checks that a prompt and the longest completion fit one
  // micro-batch, naming the problem otherwise).
  std::vector<std::int64_t> prompt_ids(std::size_t problem, std::int64_t sample);
  // Encodes the first `count` problems' prompts now (sample 0), so that one that does not fit fails before
  // the first step, on every rank alike.
  void check_prompts(std::size_t count);

 private:
  bool opened_think(const std::vector<std::int64_t>& prompt) const;

  const LoadedModel& model_;
  harness::GrpoEnvironment& environment_;
  const harness::GrpoOptions& options_;
  tasks::RewardSettings rewards_;
  std::vector<std::vector<std::int64_t>> prompt_cache_;   // per problem, when prompts do not vary per sample
};

}  // namespace r1lab::trainer
