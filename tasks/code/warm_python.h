// tasks/code/warm_python.h — Python tests as forks of a warm, sandboxed interpreter.
//
// Starting a sandbox and a fresh interpreter, then importing LiveCodeBench's prelude, costs about 80 ms
// per test on these machines, more than most programs run; LiveCodeBench's own checker instead forks a
// warm process. Here each grading process keeps warm interpreters (zygotes), each in a bubblewrap sandbox
// of its own with the same namespaces, mounts and environment as a cold execution, with the prelude's
// modules loaded. A test is one fork of a zygote: the program gets a fresh process with fresh standard
// streams and its own rlimits, and when it ends the zygote kills every process it left and empties /tmp,
// /code and /dev/shm, so no test sees another's state. docs/sandbox.md lists what differs from a cold
// execution and why it is still isolated.
//
// A zygote is retired after kTestsPerZygote tests or on any protocol failure; a test it could not serve
// is run cold by the caller, so a broken zygote costs time, never a verdict.
#pragma once

#include <optional>
#include <string>

#include "tasks/code/program.h"
#include "tasks/code/sandbox.h"

namespace r1lab::code {

inline constexpr int kTestsPerZygote = 2000;

// Whether tests of `program` can run warm under `sandbox` (Python programs in bubblewrap mode).
bool can_run_warm(const Sandbox& sandbox, const Program& program);

// Runs one test of a Python program (its folder's files, its entry from program.argv) in a warm
// interpreter of this process. nullopt when no zygote could serve it: the caller runs the test cold.
std::optional<ExecutionResult> run_warm(const Sandbox& sandbox, const Program& program, const std::string& stdin_data,
                                        const ExecutionLimits& limits);

// Stops this process's idle zygotes (tests; they also end with the process).
void stop_warm_interpreters();

}  // namespace r1lab::code
