#!/usr/bin/env bash
# r1lab train sft vs TRL's SFTTrainer (tests/support/trl_sft_oracle.py), side by side in one run: the same
# random Qwen2 (made by transformers, real 151k Qwen vocabulary), the same GSM8K prompt-completion pairs in
# the same order, the same AdamW, schedule, clipping and batch, fp32 on the CPU. Prints the step time and
# tokens/s of each, their ratio, and the largest loss difference over the run.
#   bench/run_sft_bench.sh [STEPS=50] [BATCH=4] [SHAPE=tiny] [EXAMPLES=24]
# SHAPE: tiny (hidden 64, 2 layers: the vocabulary dominates) or bench (hidden 256, 4 layers).
# Needs a LibTorch build (scripts/setup.sh -DR1LAB_WITH_TORCH=ON) and .venv (scripts/setup_python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-50}; batch=${2:-4}; shape=${3:-tiny}; examples=${4:-24}
python=${R1LAB_PYTHON:-.venv/bin/python}
cmake --build build --target r1lab r1lab_trainer >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$python tests/support/model_oracle.py make qwen2 "$work/model" --data-dir ../shared/data --shape "$shape" >/dev/null 2>&1
head -n "$examples" ../shared/data/train/gsm8k/train.jsonl | $python -c '
import json, sys
for line in sys.stdin:
    row = json.loads(line)
    print(json.dumps({"prompt": row["question"], "completion": row["answer"]}))' > "$work/data.jsonl"
settings=(--lr 3e-4 --warmup-steps 5 --weight-decay 0.1 --max-grad-norm 1.0)
build/r1lab train sft --model "$work/model" --data "$work/data.jsonl" --out "$work/ours" --max-steps "$steps" \
  --batch-size "$batch" --lr-schedule cosine --no-shuffle --progress none "${settings[@]}"
$python tests/support/trl_sft_oracle.py run "$work/model" "$work/data.jsonl" "$work/trl.json" --steps "$steps" \
  --batch-size "$batch" --schedule cosine "${settings[@]}" >/dev/null 2>&1
$python - "$work/ours/metrics.jsonl" "$work/trl.json" "$shape" "$batch" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
trl = json.load(open(sys.argv[2]))["steps"]
# The first step of each carries one-off costs (allocation, TRL's first chunked-loss pass); leave it out.
def rate(rows, seconds_key):
    rows = rows[1:]
    tokens = sum(r["tokens"] for r in rows)
    seconds = sum(r[seconds_key] for r in rows)
    return tokens / seconds, seconds / len(rows)
ours_rate, ours_step = rate(ours, "seconds")
trl_rate, trl_step = rate(trl, "seconds")
worst = max(abs(a["loss"] - b["loss"]) for a, b in zip(ours, trl))
print(f"model: {sys.argv[3]} (random Qwen2, 151k vocabulary), fp32 CPU, batch {sys.argv[4]}, {len(ours)} steps")
print(f"r1lab train sft:      {ours_step:.3f} s/step  {ours_rate:.0f} tokens/s")
print(f"TRL SFTTrainer:       {trl_step:.3f} s/step  {trl_rate:.0f} tokens/s")
print(f"ratio r1lab / TRL tokens/s: {ours_rate / trl_rate:.2f}x")
print(f"largest |loss difference| over {len(ours)} steps: {worst:.2e}  (first loss {ours[0]['loss']:.4f}, last {ours[-1]['loss']:.4f})")
PY
