// trainer/commands.h — what trainer/ adds to the `r1lab` binary in LibTorch builds.
#pragma once

#include <CLI/CLI.hpp>

namespace r1lab::trainer {

// `r1lab generate`, and the built-in engine as `r1lab eval --backend builtin`.
void add_trainer_commands(CLI::App& app);

}  // namespace r1lab::trainer
