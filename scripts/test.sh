#!/usr/bin/env bash
# Sets up (scripts/setup.sh, and scripts/setup_python.sh for the third-party peers the eval tests run
# against) and runs the whole test suite. Labels: unit (fast), slow (real data, the binary end to end),
# eval (servers on loopback), live_server (transformers serve). Extra arguments go to ctest, e.g.
# scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup_python.sh
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
