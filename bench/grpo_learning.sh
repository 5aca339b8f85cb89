#!/usr/bin/env bash
# Does `r1lab train grpo` learn? The experiment of docs/training.md, on this CPU, end to end:
#   1. a tiny byte-level model (r1lab train init-model: hidden 128, 4 layers, a vocabulary learnt from the
#      data) is taught five-digit addition in the R1-Zero format by answer-only SFT
#      (" <think> </think> <answer>SUM</answer>") until it solves part of it (BASE_TARGET, 20%, of training
#      problems): the base;
#   2. from the base, GRPO on addition_train, one run per seed, evaluated on the 1,000 held-out additions
#      (greedy) every EVAL_EVERY steps by `r1lab eval` through --eval-task;
#   3. the control: the same base with more answer-only SFT (the base's own recipe, lr 1e-3) for the same
#      wall-clock time as each GRPO run,
#      evaluated the same way.
# Everything lands in OUT (kept): base/, grpo-seed-S/ (metrics.jsonl, eval.jsonl, eval/), control-seed-S/,
# and OUT/summary.json; the table is printed last.
#   bench/grpo_learning.sh OUT [SEEDS="1 2 3"] [GRPO_STEPS=300] [EVAL_EVERY=50]
# Needs a LibTorch build (scripts/setup.sh -DR1LAB_WITH_TORCH=ON) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/grpo_learning.sh OUT [SEEDS] [GRPO_STEPS] [EVAL_EVERY]}
seeds=${2:-1 2 3}; grpo_steps=${3:-300}; eval_every=${4:-50}
r1lab=build/r1lab
mkdir -p "$out"

# The data: answer-only completions for every training problem.
if [ ! -f "$out/sft.jsonl" ]; then
  $r1lab prompts --task addition_train --template r1_zero | python3 -c '
import json, sys
for line in sys.stdin:
    row = json.loads(line)
    print(json.dumps({"prompt": row["prompt"], "completion": " <think> </think> <answer>" + row["reference"] + "</answer>"}))' \
    > "$out/sft.jsonl.partial"
  mv "$out/sft.jsonl.partial" "$out/sft.jsonl"
fi

evaluate() {   # MODEL_DIR OUT_DIR: greedy pass@1 on the 1,000 held-out additions
  $r1lab eval --backend builtin --model "$1" --task addition --out "$2" --api completions --template r1_zero -n 1 \
    --temperature 0 --top-p 1 --max-tokens 32 --progress none >/dev/null 2>&1
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print([m["value"] for m in r["metrics"] if m["name"] == "pass@1"][0])' \
    "$2/addition/results.json"
}

# 1. The base: answer-only SFT at a constant learning rate, a checkpoint every 100 steps; the base is the
# first checkpoint that solves at least BASE_TARGET of the first 300 training problems (greedy): the
# held-out problems play no part in choosing it. (Small models learn addition abruptly: the loss sits
# near 0.55 for hundreds of steps, then falls; annealing the rate before that leaves a model at 0%.)
base_target=${BASE_TARGET:-0.2}
[ -f "$out/init/config.json" ] || $r1lab train init-model --out "$out/init" --corpus "$out/sft.jsonl" --merges 300 --hidden-size 128 \
  --intermediate-size 384 --layers 4 --heads 4 --kv-heads 2 --seed 0 >/dev/null
sft_settings=(--data "$out/sft.jsonl" --batch-size 32 --max-seq-len 256 --progress none)
$r1lab train sft --model "$out/init" --out "$out/base-sft" "${sft_settings[@]}" --lr 1e-3 --warmup-steps 50 --max-steps 1500 \
  --lr-schedule constant --seed 0 --save-every 100 --keep-checkpoints 15
base=""
for step in $(seq 100 100 1500); do
  accuracy=$($r1lab eval --backend builtin --model "$out/base-sft/checkpoints/step-$step" --task addition_train --limit 300 \
    --out "$out/base-select/step-$step" --api completions --template r1_zero -n 1 --temperature 0 --top-p 1 --max-tokens 32 \
    --progress none >/dev/null 2>&1 && python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print([m["value"] for m in r["metrics"] if m["name"] == "pass@1"][0])' \
    "$out/base-select/step-$step/addition_train/results.json")
  echo "base candidate step $step: $accuracy on the first 300 training problems"
  if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$accuracy" "$base_target"; then
    base="$out/base-sft/checkpoints/step-$step"
    break
  fi
done
[ -n "$base" ] || { echo "no checkpoint reached $base_target; the base SFT did not learn" >&2; exit 1; }
rm -rf "$out/base" && cp -r "$base" "$out/base"
base_accuracy=$(evaluate "$out/base" "$out/base-eval")
echo "base: $base, pass@1 $base_accuracy on the held-out additions"

# 2. GRPO per seed, and 3. the control for the same time.
for seed in $seeds; do
  started=$(date +%s.%N)
  $r1lab train grpo --model "$out/base" --task addition_train --out "$out/grpo-seed-$seed" --seed "$seed" \
    --prompts-per-step 16 --group-size 8 --max-new-tokens 24 --lr 1e-4 --warmup-steps 5 --max-steps "$grpo_steps" \
    --eval-task addition --eval-every "$eval_every" --grading-workers 1 --progress none
  grpo_seconds=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$started" "$(date +%s.%N)")
  # The control trains as long: its steps from the base run's seconds per step (its SFT step time).
  control_steps=$(python3 - "$out/base-sft/metrics.jsonl" "$grpo_seconds" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])][1:]   # the base SFT's steps
print(max(1, int(float(sys.argv[2]) / (sum(r["seconds"] for r in rows) / len(rows)))))
PY
)
  $r1lab train sft --model "$out/base" --out "$out/control-seed-$seed" "${sft_settings[@]}" --lr 1e-3 \
    --lr-schedule constant --max-steps "$control_steps" --seed "$((seed + 100))"
  control_accuracy=$(evaluate "$out/control-seed-$seed/final" "$out/control-seed-$seed-eval")
  python3 - "$out" "$seed" "$base_accuracy" "$grpo_seconds" "$control_steps" "$control_accuracy" <<'PY'
import json, os, sys
out, seed, base, seconds, control_steps, control = sys.argv[1:]
evals = [json.loads(line) for line in open(os.path.join(out, f"grpo-seed-{seed}", "eval.jsonl"))]
summary_file = os.path.join(out, "summary.json")
summary = json.load(open(summary_file)) if os.path.exists(summary_file) else {"base": float(base), "runs": {}}
summary["runs"][seed] = {"grpo_seconds": float(seconds), "grpo_curve": [[e["step"], e["pass@1"]] for e in evals],
                         "grpo_final": evals[-1]["pass@1"], "control_steps": int(control_steps), "control_final": float(control)}
json.dump(summary, open(summary_file + ".partial", "w"), indent=1)
os.replace(summary_file + ".partial", summary_file)
PY
done

python3 - "$out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
base = s["base"]
print(f"held-out additions (1,000, greedy pass@1); base {100 * base:.1f}%")
print(f"{'seed':>4} {'GRPO minutes':>12} {'GRPO final':>10} {'gain':>7} {'control (SFT) final':>19} {'gain':>7}  GRPO curve (step: %)")
for seed, r in sorted(s["runs"].items()):
    curve = " ".join(f"{step}:{100 * acc:.1f}" for step, acc in r["grpo_curve"])
    print(f"{seed:>4} {r['grpo_seconds'] / 60:12.1f} {100 * r['grpo_final']:9.1f}% {100 * (r['grpo_final'] - base):+6.1f} "
          f"{100 * r['control_final']:18.1f}% {100 * (r['control_final'] - base):+6.1f}  {curve}")
PY
