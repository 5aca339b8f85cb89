#include "harness/train_options.h"

#include <initializer_list>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

namespace r1lab::harness {

template <class Options>
nlohmann::json options_to_json(const Options& options) {
  nlohmann::json j = nlohmann::json::object();
  visit_fields(options, [&](const char* name, const auto& value, const char*, FieldRole) { j[name] = value; });
  return j;
}

template <class Options>
void apply_options_json(Options& options, const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) throw std::runtime_error(source + ": expected a JSON object of settings, e.g. {\"lr\": 1e-5}");
  for (const auto& [key, value] : config.items()) {
    bool known = false;
    visit_fields(options, [&](const char* name, auto& field, const char*, FieldRole) {
      if (key != name) return;
      known = true;
      using T = std::decay_t<decltype(field)>;
      bool fits = std::is_same_v<T, bool>          ? value.is_boolean()
                  : std::is_same_v<T, std::string> ? value.is_string()
                  : std::is_floating_point_v<T>    ? value.is_number()
                  : std::is_unsigned_v<T>          ? value.is_number_unsigned()
                                                   : value.is_number_integer();
      if (!fits) {
        throw std::runtime_error(fmt::format("{}: $.{} is {}, expected {}", source, key, value.dump(),
                                             std::is_same_v<T, bool> ? "true or false" : std::is_same_v<T, std::string> ? "a string"
                                             : std::is_floating_point_v<T> ? "a number" : "an integer"));
      }
      field = value.template get<T>();
    });
    if (!known) throw std::runtime_error(fmt::format("{}: $.{} is not a setting of {} (the keys are the flag names without --)", source, key, command_name(options)));
  }
}

template <class Options>
std::vector<std::string> identity_differences(const nlohmann::json& stored, const Options& current) {
  std::vector<std::string> differences;
  visit_fields(current, [&](const char* name, const auto& value, const char*, FieldRole role) {
    if (role != FieldRole::identity) return;
    nlohmann::json now = value;
    if (!stored.contains(name)) {
      differences.push_back(fmt::format("{}: was (unset), now {}", name, now.dump()));
    } else if (stored[name] != now) {
      differences.push_back(fmt::format("{}: was {}, now {}", name, stored[name].dump(), now.dump()));
    }
  });
  return differences;
}

namespace {

void fail(const std::string& what) { throw std::invalid_argument(what); }

template <class Options>
void validate_shared(const Options& o) {
  if (o.lr_schedule != "cosine" && o.lr_schedule != "constant" && o.lr_schedule != "linear") {
    fail("--lr-schedule must be cosine, constant or linear, not '" + o.lr_schedule + "'");
  }
  if (!(o.lr > 0)) fail("--lr must be positive");
  if (o.warmup_steps < 0) fail("--warmup-steps must be 0 or more");
  if (o.weight_decay < 0) fail("--weight-decay must be 0 or more");
  if (!(o.adam_beta1 >= 0 && o.adam_beta1 < 1) || !(o.adam_beta2 >= 0 && o.adam_beta2 < 1)) fail("--adam-beta1/2 must be in [0, 1)");
  if (!(o.adam_eps > 0)) fail("--adam-eps must be positive");
  if (o.max_grad_norm < 0) fail("--max-grad-norm must be 0 (off) or positive");
  if (o.nproc < 1) fail("--nproc must be at least 1");
  if (!(o.bucket_mb > 0)) fail("--bucket-mb must be positive");
  if (!(o.dist_timeout_s > 0)) fail("--dist-timeout-s must be positive");
  if (o.save_every < 0) fail("--save-every must be 0 (only at the end) or more");
  if (o.keep_checkpoints < 1) fail("--keep-checkpoints must be at least 1");
  if (o.progress != "auto" && o.progress != "live" && o.progress != "bar" && o.progress != "log" && o.progress != "none") {
    fail("--progress must be auto, live (or bar), log or none");
  }
  if (o.dtype != "auto" && o.dtype != "float32" && o.dtype != "bfloat16") fail("--dtype must be auto, float32 or bfloat16");
}

void one_of(const std::string& flag, const std::string& value, std::initializer_list<const char*> accepted) {
  for (const char* a : accepted)
    if (value == a) return;
  std::string list;
  for (const char* a : accepted) list += (list.empty() ? "" : ", ") + std::string(a);
  fail("--" + flag + " must be one of " + list + ", not '" + value + "'");
}

}  // namespace

void validate_options(const SftOptions& o) {
  validate_shared(o);
  if (o.loss_on != "assistant" && o.loss_on != "all") fail("--loss-on must be assistant or all, not '" + o.loss_on + "'");
  if (o.max_seq_len < 2) fail("--max-seq-len must be at least 2");
  if (o.epochs < 1) fail("--epochs must be at least 1");
  if (o.max_steps < 0) fail("--max-steps must be 0 (use --epochs) or more");
  if (o.batch_size < 1) fail("--batch-size must be at least 1");
  if (o.micro_batch_tokens < o.max_seq_len) {
    fail(fmt::format("--micro-batch-tokens ({}) must hold the longest sequence (--max-seq-len {})", o.micro_batch_tokens, o.max_seq_len));
  }
}

void validate_options(const GrpoOptions& o) {
  validate_shared(o);
  one_of("prompt-format", o.prompt_format, {"r1-zero", "chat"});
  one_of("scale-rewards", o.scale_rewards, {"group", "batch", "none"});
  one_of("kl", o.kl, {"k1", "k2", "k3"});
  one_of("loss-aggregation", o.loss_aggregation, {"token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "constant"});
  if (o.limit < 0) fail("--limit must be 0 (all) or more");
  if (o.max_steps < 1) fail("--max-steps must be at least 1");
  if (o.prompts_per_step < 1) fail("--prompts-per-step must be at least 1");
  if (o.group_size < 2) fail("--group-size must be at least 2 (advantages compare the samples of a group)");
  if (o.max_new_tokens < 1) fail("--max-new-tokens must be at least 1");
  if (!(o.temperature > 0)) fail("--temperature must be positive (the policy's logprobs are taken at it)");
  if (!(o.top_p > 0 && o.top_p <= 1)) fail("--top-p must be in (0, 1]");
  if (o.rollout_batch < 1) fail("--rollout-batch must be at least 1");
  if (o.accuracy_weight < 0 || o.format_weight < 0 || o.overlong_weight < 0 || o.language_weight < 0) fail("reward weights must be 0 or more");
  if (o.language != "en" && o.language != "zh") fail("--language must be en or zh");
  if (o.code_reward != "all-pass" && o.code_reward != "pass-rate") fail("--code-reward must be all-pass or pass-rate");
  if (o.overlong_buffer < 0 || o.overlong_buffer > o.max_new_tokens) fail("--overlong-buffer must be in [0, --max-new-tokens]");
  if (!(o.epsilon_low >= 0 && o.epsilon_low < 1)) fail("--epsilon-low must be in [0, 1)");
  if (!(o.epsilon_high >= 0)) fail("--epsilon-high must be 0 or more");
  if (!(o.beta >= 0)) fail("--beta must be 0 or more");
  if (o.updates_per_rollout < 1) fail("--updates-per-rollout must be at least 1");
  if (o.max_draws < 1) fail("--max-draws must be at least 1");
  if (o.micro_batch_tokens < 2) fail("--micro-batch-tokens must be at least 2");
  if (!(o.grading_deadline_s > 0)) fail("--grading-deadline-s must be positive");
  if (o.grading_workers < 0) fail("--grading-workers must be 0 (every core) or more");
  if (o.eval_every < 0 || o.eval_limit < 0) fail("--eval-every and --eval-limit must be 0 or more");
  if (o.eval_samples < 1) fail("--eval-samples must be at least 1");
  if (!(o.eval_temperature >= 0)) fail("--eval-temperature must be 0 (greedy) or more");
}

template nlohmann::json options_to_json(const SftOptions&);
template nlohmann::json options_to_json(const GrpoOptions&);
template void apply_options_json(SftOptions&, const nlohmann::json&, const std::string&);
template void apply_options_json(GrpoOptions&, const nlohmann::json&, const std::string&);
template std::vector<std::string> identity_differences(const nlohmann::json&, const SftOptions&);
template std::vector<std::string> identity_differences(const nlohmann::json&, const GrpoOptions&);

}  // namespace r1lab::harness
