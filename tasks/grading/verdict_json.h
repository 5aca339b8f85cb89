// tasks/grading/verdict_json.h — a Verdict as the JSON object stored in verdicts.jsonl and samples.sqlite,
// and sent back by a grading worker to its pool (grading_pool.h). `status` is present only when not empty.
#pragma once

#include <nlohmann/json.hpp>

#include "tasks/grading/verdict.h"

namespace r1lab::grading {

nlohmann::json verdict_to_json(const grading::Verdict& verdict);
// Throws nlohmann::json::exception or std::invalid_argument when the object is not a verdict.
grading::Verdict verdict_from_json(const nlohmann::json& json);

}  // namespace r1lab::grading
