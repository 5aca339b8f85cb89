// What `r1lab train sft` runs (its flags are declared in harness/cmd_train.cpp, listed once in
// harness/train_options.h).
#pragma once

#include "harness/train_options.h"

namespace r1lab::trainer {

void run_train_sft(const harness::SftOptions& options);

}  // namespace r1lab::trainer
