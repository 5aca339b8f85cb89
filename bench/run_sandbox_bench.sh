#!/usr/bin/env bash
# Sandbox overhead over a bare spawn of the same program on the same input; then executions per second
# of our Python LiveCodeBench programs on their public tests, r1lab (warm and cold) beside LiveCodeBench's
# own checker (lighteval's copy, bench/lcb_checker_peer.py) on the same programs and tests, in one run.
# The peer needs scripts/install_peers.sh (a throwaway venv, ${R1LAB_LCB_PEER_VENV:-/tmp/r1lab-lcb-peer}).
set -euo pipefail
cd "$(dirname "$0")/.."
peer_python="${R1LAB_LCB_PEER_VENV:-/tmp/r1lab-lcb-peer}/bin/python"
[ -x "$peer_python" ] || { echo "no LiveCodeBench checker peer: run scripts/install_peers.sh" >&2; exit 1; }
cmake --build build --target sandbox_throughput >/dev/null
workers=$(nproc)
jobs=$(mktemp --suffix=.jsonl)
ours=$(mktemp --suffix=.json)
trap 'rm -f "$jobs" "$ours"' EXIT
build/bench/sandbox_throughput --write-lcb-jobs="$jobs"
build/bench/sandbox_throughput --benchmark_format=json > "$ours" 2>/dev/null
peer_1=$("$peer_python" bench/lcb_checker_peer.py "$jobs" --workers 1)
peer_n=$("$peer_python" bench/lcb_checker_peer.py "$jobs" --workers "$workers")
python3 - "$ours" "$workers" "$peer_1" "$peer_n" <<'PY'
import json, sys
runs = {b["name"]: b for b in json.load(open(sys.argv[1]))["benchmarks"]}
workers = int(sys.argv[2])
peers = {1: json.loads(sys.argv[3]), workers: json.loads(sys.argv[4])}
def ms(name): return runs[name]["real_time"]
for lang, arg in (("cpp", 1), ("python", 0)):
    bare, boxed = ms("BM_Spawn/0/%d/iterations:300/real_time" % arg), ms("BM_Spawn/1/%d/iterations:300/real_time" % arg)
    print("%-6s bare %.2f ms, sandboxed %.2f ms, added %.2f ms per execution" % (lang, bare, boxed, boxed - bare))
print()
print("| workers | r1lab warm (exec/s) | r1lab cold (exec/s) | LiveCodeBench checker (exec/s) | warm / checker |")
print("|---|---|---|---|---|")
for w in sorted(peers):
    warm = runs["BM_JudgeLiveCodeBench/%d/1/iterations:3/real_time" % w]
    cold = runs["BM_JudgeLiveCodeBench/%d/0/iterations:3/real_time" % w]
    peer = peers[w]
    for name, b in (("warm", warm), ("cold", cold)):
        if b.get("error_occurred"):
            sys.exit("r1lab %s with %d worker(s): %s" % (name, w, b.get("error_message")))
    if peer["failures"]:
        sys.exit("the checker failed %d program(s)" % peer["failures"])
    print("| %d | %.1f | %.1f | %.1f | %.2fx |" % (w, warm["executions_per_s"], cold["executions_per_s"],
                                                  peer["executions_per_s"], warm["executions_per_s"] / peer["executions_per_s"]))
print("\n%d programs with %d tests in all, every one passing in both; checker: %s" % (warm["programs"], peer["executions"], peer["checker"]))
PY
