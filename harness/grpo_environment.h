// harness/grpo_environment.h — what `r1lab train grpo` gets from the harness: the task whose problems are
// the prompts, and the grading process whose verdicts are the accuracy reward.
//
// The harness makes both before the trainer plugin (and LibTorch) is loaded: the grading process must be
// forked before any thread starts and before any model is loaded (tasks/grading_service.h), so that it
// is small and holds no weights; and a reward is then exactly the verdict `r1lab eval` would give.
#pragma once

#include <string>

#include "tasks/grading_service.h"
#include "tasks/task.h"

namespace r1lab::harness {

struct GrpoEnvironment {
  const tasks::Task& task;             // loaded
  const tasks::GradingConfig& grading; // the prompt template and grading options, as eval would use them
  tasks::GradingService& grader;       // its spec 0 is `task`
  std::string data_dir;                // resolved (for periodic evaluation)
  std::string r1lab_binary;            // this program, to run `r1lab eval` on checkpoints
};

}  // namespace r1lab::harness
