// trainer/generate_run.h — `r1lab generate` on the engine (the flags are the harness's GenerateOptions).
#pragma once

#include "harness/local_backend.h"

namespace r1lab::trainer {

// Reads the prompts, generates in batches of options.model.max_batch samples, writes each batch's
// completions as it finishes. Throws std::runtime_error naming the file and line of a bad prompt line.
void run_generate(const harness::GenerateOptions& options);

}  // namespace r1lab::trainer
