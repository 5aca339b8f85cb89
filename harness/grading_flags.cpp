#include "harness/commands.h"

#include <stdexcept>

namespace r1lab::harness {

void add_grading_flags(CLI::App& command, GradingFlags& flags) {
  flags.think_option = command.add_option("--think", flags.think,
      "Reasoning split: required (no </think> = unfinished), none (whole text is the answer), auto")
      ->check(CLI::IsMember({"required", "none", "auto"}));
  command.add_flag("--fallback-extraction", flags.fallback_extraction,
                   "When nothing is boxed, tagged or anchored, take the last LaTeX span or number");
  command.add_option("--unreduced-fractions", flags.unreduced_fractions, "accept or reject answers like 2/4 for 1/2")
      ->check(CLI::IsMember({"accept", "reject"}));
  command.add_option("--percent", flags.percent, "strip (50% == 50) or either (also == 0.5)")
      ->check(CLI::IsMember({"strip", "either"}));
  command.add_option("--float-rel-tol", flags.float_rel_tol, "Relative tolerance when an answer is written as a decimal");
  command.add_option("--deadline-ms", flags.deadline_ms, "Deadline of one grading call (a timeout is its own verdict)")
      ->check(CLI::Range(10, 600000));
  command.add_option("--seed", flags.choice_seed, "Seed of the multiple-choice shuffle (GPQA)");
  command.add_option("--template", flags.prompt_template, "Prompt template: paper or r1_zero")
      ->check(CLI::IsMember({"paper", "r1_zero"}));
}

tasks::GradingConfig grading_config_from(const GradingFlags& flags) {
  tasks::GradingConfig config;
  config.math.think_policy = grading::think_policy_from_name(flags.think);
  config.choice.think_policy = config.math.think_policy;
  config.math.fallback_extraction = flags.fallback_extraction;
  config.math.unreduced_fractions = flags.unreduced_fractions == "reject" ? grading::UnreducedFractionPolicy::reject
                                                                          : grading::UnreducedFractionPolicy::accept;
  config.math.percent = flags.percent == "either" ? grading::PercentPolicy::either : grading::PercentPolicy::strip;
  if (!(flags.float_rel_tol >= 0 && flags.float_rel_tol < 1))
    throw std::invalid_argument("--float-rel-tol must be in [0, 1)");
  config.math.float_rel_tol = flags.float_rel_tol;
  config.math.limits.deadline = std::chrono::milliseconds(flags.deadline_ms);
  config.choice_seed = flags.choice_seed;
  config.prompt_template = tasks::prompt_template_from_name(flags.prompt_template);
  return config;
}

}  // namespace r1lab::harness
