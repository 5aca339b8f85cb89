#!/usr/bin/env bash
# r1lab's engine vs transformers generate(), side by side in one run: the same random model (made by
# transformers), the same chat-templated MATH-500 prompts, the same batch, temperature 0.6 / top-p 0.95,
# exactly NEW_TOKENS per sequence. Prints tokens/s of each and the ratio.
#   bench/run_generate_bench.sh [BATCH=16] [NEW_TOKENS=128] [SHAPE=bench] [DEVICE=cpu] [DTYPE=float32]
# SHAPE: bench (hidden 256, 4 layers; for CPU) or qwen2.5-0.5b (for GPU). Needs a LibTorch build
# (scripts/setup.sh -DR1LAB_WITH_TORCH=ON) and .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
batch=${1:-16}; new_tokens=${2:-128}; shape=${3:-bench}; device=${4:-cpu}; dtype=${5:-float32}
python=${R1LAB_PYTHON:-.venv/bin/python}
cmake --build build --target r1lab >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# INIT (initializer_range) 0.3 by default: peaked next-token distributions, as a trained model's are (the
# top-p nucleus is a few tokens). INIT=0.02 (transformers' default) gives near-flat ones, where the
# nucleus is most of the vocabulary: the worst case for r1lab's sampler, which then sorts every row.
$python tests/support/model_oracle.py make qwen2 "$work/model" --data-dir ../shared/data --shape "$shape" \
  --dtype "$dtype" --init "${INIT:-0.3}" >/dev/null 2>&1
$python - "$work/prompts.jsonl" "$batch" <<'PY'
import json, sys
rows = [json.loads(l) for l in open("../shared/data/math500/test.jsonl", encoding="utf-8")]
with open(sys.argv[1], "w", encoding="utf-8") as out:
    for row in rows[: int(sys.argv[2])]:
        out.write(json.dumps({"messages": [{"role": "user", "content": row["problem"]}]}) + "\n")
PY
ours_log="$work/ours.log"
/usr/bin/time -f "%M" -o "$work/ours.rss" build/r1lab generate --model "$work/model" --input "$work/prompts.jsonl" \
  --output /dev/null --batch-size "$batch" --max-new-tokens "$new_tokens" --temperature 0.6 --top-p 0.95 \
  --ignore-eos --device "$device" --dtype "$dtype" 2>"$ours_log"
ours=$(grep -o '[0-9.e+]* tokens/s' "$ours_log" | cut -d' ' -f1)
peer=$(/usr/bin/time -f "%M" -o "$work/peer.rss" $python bench/generate_peer.py "$work/model" "$work/prompts.jsonl" \
       "$batch" "$new_tokens" "$device" "$dtype" 2>/dev/null)
echo "model: $shape $dtype on $device, batch $batch, $new_tokens new tokens each"
echo "r1lab generate:           $ours tokens/s (peak RSS $(( $(cat "$work/ours.rss") / 1024 )) MB)"
echo "transformers generate():  $peer (peak RSS $(( $(cat "$work/peer.rss") / 1024 )) MB)"
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours, peer = float(sys.argv[1]), json.loads(sys.argv[2])
print("ratio r1lab / transformers tokens/s: %.2fx" % (ours / peer["tokens_per_s"]))
PY
