#!/usr/bin/env bash
# Python peers used only by bench/ (never by the tests), pinned: Math-Verify, and LiveCodeBench's checker.
set -euo pipefail
cd "$(dirname "$0")/.."
# Both go into virtual environments (Debian's python3 refuses pip installs outside one), which need venv.
if command -v dpkg-query >/dev/null && [ "$(command -v python3)" = /usr/bin/python3 ] &&
   ! dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv
fi

# Math-Verify, for bench/peer_agreement.py and bench/run_grading_bench.sh, which run with this python.
peers=.venv-peers
[ -x "$peers/bin/python" ] || python3 -m venv "$peers"
"$peers/bin/pip" install -q --disable-pip-version-check 'math-verify==0.9.0' 'antlr4-python3-runtime==4.13.2'

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
