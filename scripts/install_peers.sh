#!/usr/bin/env bash
# Python peers used only by bench/ (never by the tests), pinned: Math-Verify, and LiveCodeBench's checker.
set -euo pipefail
python3 -m pip install -q 'math-verify[antlr4_13_2]==0.9.0'

# LiveCodeBench's checker as lighteval ships it, for bench/lcb_checker_peer.py. A throwaway venv of its
# own: lighteval's dependencies are heavy and the checker module needs only numpy and tqdm, so lighteval
# goes in without them (the bench loads the one module file, not the package).
lcb_venv="${R1LAB_LCB_PEER_VENV:-/tmp/r1lab-lcb-peer}"
if [ -x "$lcb_venv/bin/python" ] && "$lcb_venv/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("lighteval") is None)' 2>/dev/null; then
  echo "lighteval already in $lcb_venv"
else
  python3 -m venv "$lcb_venv"
  "$lcb_venv/bin/pip" install -q numpy tqdm
  "$lcb_venv/bin/pip" install -q --no-deps 'lighteval==0.13.0'
fi
