#!/usr/bin/env bash
# Python peers used only by bench/ (never by the tests): Math-Verify, pinned.
set -euo pipefail
python3 -m pip install -q 'math-verify[antlr4_13_2]==0.9.0'
