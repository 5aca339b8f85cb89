// tasks/registry.h — the table of tasks. Adding a task is one row in registry.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace r1lab::tasks {

std::vector<std::string> task_names();
// Throws std::invalid_argument listing the known tasks when the name is unknown.
std::unique_ptr<Task> make_task(const std::string& name);

}  // namespace r1lab::tasks
