#include "harness/train_options.h"

#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

namespace r1lab::harness {

nlohmann::json sft_options_to_json(const SftOptions& options) {
  nlohmann::json j = nlohmann::json::object();
  visit_sft_fields(options, [&](const char* name, const auto& value, const char*, FieldRole) { j[name] = value; });
  return j;
}

void apply_sft_json(SftOptions& options, const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) throw std::runtime_error(source + ": expected a JSON object of settings, e.g. {\"lr\": 1e-5}");
  for (const auto& [key, value] : config.items()) {
    bool known = false;
    visit_sft_fields(options, [&](const char* name, auto& field, const char*, FieldRole) {
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
      field = value.get<T>();
    });
    if (!known) throw std::runtime_error(fmt::format("{}: $.{} is not a setting of train sft (the keys are the flag names without --)", source, key));
  }
}

std::vector<std::string> sft_identity_differences(const nlohmann::json& stored, const SftOptions& current) {
  std::vector<std::string> differences;
  visit_sft_fields(current, [&](const char* name, const auto& value, const char*, FieldRole role) {
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

void validate_sft_options(const SftOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.loss_on != "assistant" && o.loss_on != "all") fail("--loss-on must be assistant or all, not '" + o.loss_on + "'");
  if (o.lr_schedule != "cosine" && o.lr_schedule != "constant" && o.lr_schedule != "linear") {
    fail("--lr-schedule must be cosine, constant or linear, not '" + o.lr_schedule + "'");
  }
  if (o.max_seq_len < 2) fail("--max-seq-len must be at least 2");
  if (o.epochs < 1) fail("--epochs must be at least 1");
  if (o.max_steps < 0) fail("--max-steps must be 0 (use --epochs) or more");
  if (o.batch_size < 1) fail("--batch-size must be at least 1");
  if (o.micro_batch_tokens < o.max_seq_len) {
    fail(fmt::format("--micro-batch-tokens ({}) must hold the longest sequence (--max-seq-len {})", o.micro_batch_tokens, o.max_seq_len));
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
  if (o.progress != "auto" && o.progress != "bar" && o.progress != "log" && o.progress != "none") {
    fail("--progress must be auto, bar, log or none");
  }
  if (o.dtype != "auto" && o.dtype != "float32" && o.dtype != "bfloat16") fail("--dtype must be auto, float32 or bfloat16");
}

}  // namespace r1lab::harness
