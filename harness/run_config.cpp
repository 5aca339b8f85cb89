#include "harness/run_config.h"

#include <fmt/format.h>

namespace r1lab::harness {

namespace {

// Task fields that change what a prompt or a verdict is; n and problems may change freely.
constexpr const char* kTaskIdentity[] = {"version", "dataset_sha256", "prompt_template", "choice_seed"};

std::string shown(const nlohmann::json& value) { return value.is_null() ? "(unset)" : value.dump(); }

}  // namespace

std::vector<std::string> run_config_differences(const nlohmann::json& stored, const nlohmann::json& current) {
  std::vector<std::string> differences;
  const nlohmann::json empty = nlohmann::json::object();
  const auto& was = stored.contains("generation") ? stored["generation"] : empty;
  const auto& now = current.contains("generation") ? current["generation"] : empty;
  for (const auto& [key, value] : now.items()) {
    nlohmann::json before = was.contains(key) ? was[key] : nlohmann::json();
    if (before != value) differences.push_back(fmt::format("{}: was {}, now {}", key, shown(before), shown(value)));
  }
  for (const auto& [key, value] : was.items())
    if (!now.contains(key)) differences.push_back(fmt::format("{}: was {}, now (unset)", key, shown(value)));
  if (stored.contains("tasks") && current.contains("tasks")) {
    for (const auto& [task, spec] : current["tasks"].items()) {
      if (!stored["tasks"].contains(task)) continue;  // a task added to the run
      const auto& before = stored["tasks"][task];
      for (const char* key : kTaskIdentity) {
        nlohmann::json a = before.contains(key) ? before[key] : nlohmann::json();
        nlohmann::json b = spec.contains(key) ? spec[key] : nlohmann::json();
        if (a != b) differences.push_back(fmt::format("{} {}: was {}, now {}", task, key, shown(a), shown(b)));
      }
    }
  }
  return differences;
}

nlohmann::json merged_run_config(const nlohmann::json& stored, const nlohmann::json& current) {
  nlohmann::json merged = stored.is_object() ? stored : nlohmann::json::object();
  merged["generation"] = current.at("generation");
  for (const auto& [task, spec] : current.at("tasks").items()) merged["tasks"][task] = spec;
  return merged;
}

}  // namespace r1lab::harness
