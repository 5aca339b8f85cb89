#!/usr/bin/env bash
# r1lab train grpo vs TRL's GRPOTrainer (bench/trl_grpo_peer.py), side by side in one run on the CPU: the same
# tiny byte-level model (r1lab train init-model, then 150 steps of answer-only SFT on additions, so that
# completions end by themselves as a real policy's do), the same addition_train prompts in the same order
# (R1-Zero template), the same group size, completion length, learning rate and loss (token-mean, group
# scaling, beta 0, one update per rollout), fp32. Prints each one's step time and its split, and the ratio.
#   bench/run_grpo_bench.sh [STEPS=10] [PROMPTS=8] [G=8] [MAX_NEW_TOKENS=32] [SHAPE=tiny]
# SHAPE: tiny (hidden 64, 2 layers) or experiment (hidden 128, 4 layers: the learning experiment's model).
# Needs a LibTorch build (scripts/setup.sh -DR1LAB_WITH_TORCH=ON) and .venv (scripts/setup_python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-10}; prompts=${2:-8}; group=${3:-8}; max_new=${4:-32}; shape=${5:-tiny}
case "$shape" in
  tiny) dims=(--merges 200 --hidden-size 64 --intermediate-size 128 --layers 2 --heads 4 --kv-heads 2) ;;
  experiment) dims=(--merges 300 --hidden-size 128 --intermediate-size 384 --layers 4 --heads 4 --kv-heads 2) ;;
  *) echo "SHAPE must be tiny or experiment" >&2; exit 2 ;;
esac
python=${R1LAB_PYTHON:-.venv/bin/python}
cmake --build build --target r1lab r1lab_trainer >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/r1lab prompts --task addition_train --template r1_zero > "$work/all.jsonl"
head -n $((steps * prompts)) "$work/all.jsonl" > "$work/prompts.jsonl"
head -n 2000 "$work/all.jsonl" | $python -c '
import json, sys
for line in sys.stdin:
    row = json.loads(line)
    print(json.dumps({"prompt": row["prompt"], "completion": " <think> </think> <answer>" + row["reference"] + "</answer>"}))' > "$work/sft.jsonl"
build/r1lab train init-model --out "$work/init" --corpus "$work/sft.jsonl" "${dims[@]}" --seed 1 >/dev/null
build/r1lab train sft --model "$work/init" --data "$work/sft.jsonl" --out "$work/base" --batch-size 16 --lr 1e-2 --max-steps 150 \
  --warmup-steps 10 --max-seq-len 256 --seed 1 --progress none 2>/dev/null
# r1lab twice: as it runs by default (a group's prompt computed once in the training forward) and with
# every sequence whole (--no-shared-prompt), to show what the shared prompt is worth.
for variant in ours ours-whole; do
  extra=()
  [[ $variant == ours-whole ]] && extra=(--no-shared-prompt)
  build/r1lab train grpo --model "$work/base/final" --task addition_train --limit $((steps * prompts)) --no-shuffle --out "$work/$variant" \
    --max-steps "$steps" --prompts-per-step "$prompts" --group-size "$group" --max-new-tokens "$max_new" --lr 1e-4 \
    --grading-workers 1 --progress none "${extra[@]}" 2>/dev/null
done
$python bench/trl_grpo_peer.py "$work/base/final" "$work/prompts.jsonl" "$work/trl.json" --steps "$steps" \
  --prompts-per-step "$prompts" --group-size "$group" --max-new-tokens "$max_new" --lr 1e-4 >/dev/null 2>&1
$python - "$work/ours/metrics.jsonl" "$work/trl.json" "$prompts" "$group" "$max_new" "$shape" "$work/ours-whole/metrics.jsonl" <<'PY'
import json, sys
ours = [json.loads(l) for l in open(sys.argv[1])]
whole = [json.loads(l) for l in open(sys.argv[7])]
trl = json.load(open(sys.argv[2]))["steps"]
# The first step of each carries one-off costs (allocation, warm-up); leave it out.
def mean(rows, key):
    rows = rows[1:]
    return sum(r[key] for r in rows) / len(rows)
shape = {"tiny": "hidden 64, 2 layers", "experiment": "hidden 128, 4 layers"}[sys.argv[6]]
print(f"byte-level Qwen2 ({shape}), fp32 CPU; {sys.argv[3]} prompts x G={sys.argv[4]}, "
      f"at most {sys.argv[5]} new tokens, {len(ours)} steps")
print(f"{'':22} {'step s':>8} {'rollout s':>10} {'reward s':>9} {'rest s':>8} {'mean length':>12}")
for name, rows, rest in (("r1lab train grpo", ours, None), ("  --no-shared-prompt", whole, None), ("TRL GRPOTrainer", trl, "update_s")):
    other = mean(rows, "update_s") + (mean(rows, "old_logprobs_s") + mean(rows, "reference_s") if rest is None else 0)
    print(f"{name:22} {mean(rows, 'seconds'):8.3f} {mean(rows, 'rollout_s'):10.3f} {mean(rows, 'reward_s'):9.3f} "
          f"{other:8.3f} {mean(rows, 'response_length_mean'):12.1f}")
print(f"ratio TRL / r1lab step time: {mean(trl, 'seconds') / mean(ours, 'seconds'):.2f}x "
      f"(rollouts {mean(trl, 'rollout_s') / mean(ours, 'rollout_s'):.2f}x, "
      f"rest {mean(trl, 'update_s') / (mean(ours, 'update_s') + mean(ours, 'reward_s')):.2f}x); "
      f"--no-shared-prompt: {mean(trl, 'seconds') / mean(whole, 'seconds'):.2f}x")
PY
