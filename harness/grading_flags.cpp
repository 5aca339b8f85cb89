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
  // --seed is the sampling seed wherever there is one (eval, generate, train); this one only shuffles choices.
  command.add_option("--choice-seed", flags.choice_seed, "Seed of the multiple-choice shuffle (GPQA)");
  command.add_option("--template", flags.prompt_template, "Prompt template: paper or r1_zero")
      ->check(CLI::IsMember({"paper", "r1_zero"}));
  auto* code = "Code tasks";
  command.add_option("--sandbox", flags.sandbox,
                     "bubblewrap (default), or rlimits-only to accept a weaker sandbox where bubblewrap cannot run")
      ->group(code);
  command.add_option("--time-limit", flags.time_limit, "Seconds of CPU per test (default: the task's)")->group(code);
  command.add_option("--time-scale", flags.time_scale, "Multiply every per-test time limit")->group(code)
      ->check(CLI::Range(0.01, 100.0));
  command.add_option("--memory-limit", flags.memory_limit_mb, "MB of address space per test (default: the task's)")->group(code);
  command.add_flag("--all-tests", flags.all_tests, "Run every test instead of stopping at the first failure")->group(code);
  command.add_option("--float-tolerance", flags.float_tolerance, "Codeforces: relative tolerance for numeric tokens")->group(code);
  command.add_option("--checker", flags.checker, "Codeforces: testlib-style checker executable (checker input output answer)")
      ->group(code)->check(CLI::ExistingFile);
  command.add_option("--standings", flags.standings, "Codeforces: contest standings for the rating (docs/codeforces-rating.md)")
      ->group(code)->check(CLI::ExistingFile);
  command.add_option("--code-language", flags.code_language, "Language of a code block without a tag: python or cpp")
      ->group(code)->check(CLI::IsMember({"python", "cpp"}));
  command.add_option("--code-cache", flags.code_cache, "Folder for compiled C++ programs")->group(code);
  command.add_option("--python-start", flags.python_start,
                     "warm: each Python test is a fork of a sandboxed interpreter with the imports loaded; cold: a "
                     "fresh sandbox and interpreter per test (docs/sandbox.md)")
      ->group(code)->check(CLI::IsMember({"warm", "cold"}));
}

code::SandboxMode sandbox_mode_from_flag(const std::string& value) {
  if (value == "bubblewrap") return code::SandboxMode::bubblewrap;
  if (value == "rlimits-only") return code::SandboxMode::rlimits_only;
  throw std::invalid_argument("--sandbox must be bubblewrap or rlimits-only, not '" + value + "'");
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
  config.code.think_policy = config.math.think_policy;
  config.code.sandbox = sandbox_mode_from_flag(flags.sandbox);
  if (flags.time_limit < 0) throw std::invalid_argument("--time-limit must be positive");
  config.code.time_limit_seconds = flags.time_limit;
  config.code.time_scale = flags.time_scale;
  config.code.memory_limit_mb = flags.memory_limit_mb;
  config.code.stop_at_first_failure = !flags.all_tests;
  config.code.float_tolerance = flags.float_tolerance;
  config.code.checker = flags.checker;
  config.code.standings = flags.standings;
  config.code.default_language = code::language_from_name(flags.code_language);
  config.code.cache_dir = flags.code_cache;
  config.code.warm_python = flags.python_start == "warm";
  return config;
}

}  // namespace r1lab::harness
