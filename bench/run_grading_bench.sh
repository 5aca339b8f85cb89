#!/usr/bin/env bash
# r1lab vs Math-Verify grading throughput, side by side in one run, one core each (taskset), on every
# MATH-500 sample of the SkyThought files. Prints both and the ratio. Needs scripts/install_peers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target grading_throughput >/dev/null
ours=$(taskset -c 0 build/bench/grading_throughput --benchmark_filter='BM_GradeSkyThoughtMath500/fallback:0' \
       --benchmark_format=json 2>/dev/null | python3 -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"][0]; print(json.dumps({"samples_per_s": b["samples_per_s"], "slowest_call_ms": b["slowest_call_ms"], "samples": b["samples"]}))')
peer=$(taskset -c 0 "${R1LAB_PEER_PYTHON:-.venv-peers/bin/python}" bench/grading_throughput_peer.py)
echo "r1lab:       $ours"
echo "math-verify: $peer"
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours, peer = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("ratio r1lab / math-verify samples/s: %.0fx" % (ours["samples_per_s"] / peer["samples_per_s"]))
PY
