#!/usr/bin/env bash
# Sets up (scripts/setup_python.sh: torch and the third-party peers the tests compare with, in .venv;
# scripts/setup.sh: Debian packages and the build, with trainer/ on that torch) and runs the whole test
# suite. Labels: unit (fast), slow (real data, the binary end to end), eval (servers on loopback),
# live_server (transformers serve), tokenizer (HF tokenizers as the oracle), torch (the model core against
# transformers), sandbox (bubblewrap), train (SFT and GRPO runs), gpu (on CUDA; skipped without one).
# Extra arguments go to ctest, e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup_python.sh
scripts/setup.sh -DR1LAB_WITH_TORCH=ON
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
