#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole test suite. Labels: unit (fast), slow (real data, the
# binary end to end). Extra arguments go to ctest, e.g. scripts/test.sh -L unit
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
