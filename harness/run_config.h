// harness/run_config.h — what makes two runs the same experiment. A run directory continues only under
// the same model, API, sampling parameters, seed and prompts, and the same task versions and datasets;
// anything else would mix two experiments in one table. The number of samples and the problem limit may
// grow between runs (more samples are simply drawn), and tasks may be added.
//
// Shape: {"generation": {model, api, temperature, top_p, max_tokens, stop, sampling_seed, send_seed},
//         "tasks": {name: {version, dataset_sha256, prompt_template, choice_seed, n, problems}}}
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace r1lab::harness {

// Each difference as "field: was X, now Y"; empty when the current run may continue the stored one.
std::vector<std::string> run_config_differences(const nlohmann::json& stored, const nlohmann::json& current);

// The stored configuration with the current one's tasks added or updated (n and problems may grow).
nlohmann::json merged_run_config(const nlohmann::json& stored, const nlohmann::json& current);

}  // namespace r1lab::harness
