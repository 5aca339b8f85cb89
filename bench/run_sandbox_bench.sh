#!/usr/bin/env bash
# Sandbox overhead over a bare spawn of the same program on the same input, and executions per second
# of real LiveCodeBench programs across all cores, in one run. Prints the table and the overheads.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target sandbox_throughput >/dev/null
build/bench/sandbox_throughput --benchmark_format=json 2>/dev/null | python3 -c '
import json, sys
runs = {b["name"]: b for b in json.load(sys.stdin)["benchmarks"]}
def ms(name): return runs[name]["real_time"]
for lang, arg in (("cpp", 1), ("python", 0)):
    bare, boxed = ms("BM_Spawn/0/%d/iterations:300/real_time" % arg), ms("BM_Spawn/1/%d/iterations:300/real_time" % arg)
    print("%-6s bare %.2f ms, sandboxed %.2f ms, added %.2f ms per execution" % (lang, bare, boxed, boxed - bare))
for name, b in runs.items():
    if name.startswith("BM_JudgeLiveCodeBench"):
        print("%s: %.1f executions/s (%d programs on their public tests)" % (name.split("/")[1] + " worker(s)", b["executions_per_s"], b["programs"]))
'
