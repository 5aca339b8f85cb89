// harness/verdict_json.h — a Verdict as the JSON object stored in verdicts.jsonl and samples.sqlite.
#pragma once

#include <nlohmann/json.hpp>

#include "tasks/grading/verdict.h"

namespace r1lab::harness {

nlohmann::json verdict_to_json(const grading::Verdict& verdict);
// Throws nlohmann::json::exception or std::invalid_argument when the object is not a verdict.
grading::Verdict verdict_from_json(const nlohmann::json& json);

}  // namespace r1lab::harness
