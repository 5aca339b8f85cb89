#!/usr/bin/env bash
# Continuous batching vs static batching in r1lab's engine, side by side in one run on the same model and
# prompts: a random Qwen2 (transformers-made, peaked next-token distributions as a trained model's), the
# first LINES MATH-500 prompts (chat template), each with its own length (--ignore-eos, per-line
# max_new_tokens): most 32-127 tokens, every eighth 512, the long tail that idles a static batch. Same
# seeds, temperature 0.6, top-p 0.95. Prints tokens/s of each, the ratio, and whether every sample's
# tokens are the same.
#   bench/run_continuous_batching_bench.sh [LINES=64] [BATCH=16] [SHAPE=bench] [DEVICE=cpu] [DTYPE=float32]
# Needs a LibTorch build (scripts/setup.sh -DR1LAB_WITH_TORCH=ON) and .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-64}; batch=${2:-16}; shape=${3:-bench}; device=${4:-cpu}; dtype=${5:-float32}
python=${R1LAB_PYTHON:-.venv/bin/python}
cmake --build build --target r1lab r1lab_trainer >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$python tests/support/model_oracle.py make qwen2 "$work/model" --data-dir ../shared/data --shape "$shape" \
  --dtype "$dtype" --init 0.3 >/dev/null 2>&1
$python - "$work/prompts.jsonl" "$lines" <<'PY'
import json, sys
rows = [json.loads(l) for l in open("../shared/data/math500/test.jsonl", encoding="utf-8")]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for i, row in enumerate(rows[: int(sys.argv[2])]):
        length = 512 if i % 8 == 0 else 32 + (i * 37) % 96
        out.write(json.dumps({"messages": [{"role": "user", "content": row["problem"]}], "max_new_tokens": length}) + "\n")
PY
for mode in static continuous; do
  extra=()
  [[ $mode == static ]] && extra=(--static-batches)
  build/r1lab generate --model "$work/model" --input "$work/prompts.jsonl" --output "$work/$mode.jsonl" \
    --batch-size "$batch" --temperature 0.6 --top-p 0.95 --ignore-eos --device "$device" --dtype "$dtype" \
    "${extra[@]}" 2>"$work/$mode.log"
done
$python - "$work" "$lines" "$batch" "$shape" <<'PY'
import json, re, sys
work = sys.argv[1]
def rate(mode):
    text = open(f"{work}/{mode}.log").read()
    tokens, seconds = re.search(r"(\d+) new tokens in ([0-9.e+-]+) s", text).groups()
    return int(tokens), float(seconds)
def outputs(mode):
    return {(r["index"], r["sample"]): r["token_ids"] for r in map(json.loads, open(f"{work}/{mode}.jsonl"))}
(ts, ss), (tc, sc) = rate("static"), rate("continuous")
same = outputs("static") == outputs("continuous")
print(f"{sys.argv[2]} prompts, batch {sys.argv[3]}, shape {sys.argv[4]}: {ts} new tokens")
print(f"static batches     {ss:8.2f} s  {ts / ss:8.1f} tokens/s")
print(f"continuous         {sc:8.2f} s  {tc / sc:8.1f} tokens/s")
print(f"ratio {ss / sc:.2f}x; identical outputs: {same}")
PY
