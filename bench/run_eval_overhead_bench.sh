#!/usr/bin/env bash
# r1lab eval's own overhead against the official openai client, in one run, on the same requests to the
# same loopback server (build/r1lab_openai_stub, which answers at once): 256 concurrent requests, one
# sample per request. r1lab does its whole job (SQLite store, commit per request, grading in its grading
# process, results.json); the peer only sends and receives. Memory: r1lab's resident set is sampled
# every second over the run, to show that it stays flat.
#
# Usage: bench/run_eval_overhead_bench.sh [requests=100000]   (needs scripts/setup.sh, scripts/setup_python.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-100000}
problems=500
n=$(( (requests + problems - 1) / problems ))
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

build/r1lab_openai_stub --port 0 > "$work/stub.out" 2>/dev/null &
for _ in $(seq 50); do grep -q port "$work/stub.out" && break; sleep 0.1; done
port=$(awk '/port/ {print $2}' "$work/stub.out")
url="http://127.0.0.1:$port/v1"
echo "stub server on $url; $((problems * n)) requests (MATH-500 x n=$n), 256 in flight; $(nproc) cores"

# r1lab, with its resident memory sampled every second.
start=$(date +%s.%N)
build/r1lab eval --task math500 -n "$n" --samples-per-request 1 --max-in-flight 256 --base-url "$url" --model stub \
  --out "$work/run" --progress none > "$work/r1lab.out" 2>&1 &
pid=$!
: > "$work/rss"
while kill -0 "$pid" 2>/dev/null; do
  awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null >> "$work/rss" || true
  sleep 1
done
wait "$pid"
end=$(date +%s.%N)
r1lab_s=$(python3 -c "print($end - $start)")
samples=$(python3 -c "import json; print(json.load(open('$work/run/math500/results.json'))['samples'])")
python3 - "$work/rss" "$r1lab_s" "$samples" <<'PY'
import sys
rss = [int(x) / 1024 for x in open(sys.argv[1]).read().split()]
seconds, samples = float(sys.argv[2]), int(sys.argv[3])
print(f"r1lab eval : {samples} samples in {seconds:.2f} s = {samples / seconds:.0f} requests/s (end to end: store, grading, results)")
if rss:
    marks = [rss[int(f * (len(rss) - 1))] for f in (0.1, 0.5, 0.9)]
    print(f"r1lab RSS  : {min(rss):.1f} MB min, {max(rss):.1f} MB max; at 10%/50%/90% of the run: "
          + " / ".join(f"{m:.1f}" for m in marks) + " MB")
PY

build/r1lab prompts --task math500 -n 1 > "$work/prompts.jsonl"
peer=$(.venv/bin/python bench/eval_overhead_peer.py --base-url "$url" --prompts "$work/prompts.jsonl" --requests "$((problems * n))")
echo "openai peer: $peer"
python3 - "$peer" "$r1lab_s" "$samples" <<'PY'
import json, sys
peer = json.loads(sys.argv[1])
ours = int(sys.argv[3]) / float(sys.argv[2])
print(f"ratio      : r1lab {ours:.0f} req/s vs openai client {peer['requests_per_s']:.0f} req/s = {ours / peer['requests_per_s']:.2f}x")
PY
