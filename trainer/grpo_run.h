// What `r1lab train grpo` runs (its flags are declared in harness/cmd_train.cpp, listed once in
// harness/train_options.h; the task and the grading process come from the harness).
#pragma once

#include "harness/grpo_environment.h"
#include "harness/train_options.h"

namespace r1lab::trainer {

void run_train_grpo(const harness::GrpoOptions& options, harness::GrpoEnvironment& environment);

}  // namespace r1lab::trainer
