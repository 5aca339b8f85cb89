#!/usr/bin/env bash
# The GPU check, in one call on a GPU machine (docs/gpu.md): builds the slim GPU configuration
# (R1LAB_GPU_ONLY: tokenizer, model core, training, the GPU tests and gpu_bench) against the machine's
# own torch, with the few libraries it needs unpacked from .gpu/debs (scripts/gpu_prepare.sh, run on the
# CPU machine; nothing is installed), runs the `gpu` tests on CUDA, then the benchmarks with
# transformers generate() beside r1lab's, and writes logs, results and a summary table into OUT_DIR. The
# table is printed last.
#
#   scripts/gpu_check.sh OUT_DIR            on the GPU machine
#   scripts/gpu_check.sh OUT_DIR --dry-run  here: prepares .gpu/, configures the slim build from it (and
#       checks every library came from there; builds its tokenizer), builds the GPU targets in the LibTorch build (build/,
#       against the CUDA torch wheel, so the CUDA paths compile), and runs the same tests and benchmarks
#       on the CPU at tiny sizes. CI runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/gpu_check.sh OUT_DIR [--dry-run]}"
dry_run=0
[ "${2:-}" = "--dry-run" ] && dry_run=1
mkdir -p "$out"
out=$(cd "$out" && pwd)
started=$(date +%s)
step() { echo "== $(( $(date +%s) - started ))s: $*"; }

if [ $dry_run = 1 ]; then
  device=cpu
  python="${R1LAB_PYTHON:-$PWD/.venv/bin/python}"
  [ -d .gpu/debs ] && [ -d .gpu/data ] || scripts/gpu_prepare.sh
else
  device=cuda
  python="${R1LAB_PYTHON:-$(command -v python3)}"
  [ -d .gpu/debs ] && [ -d .gpu/data ] || { echo "gpu_check: no .gpu/ (run scripts/gpu_prepare.sh on the CPU machine and carry .gpu)" >&2; exit 1; }
fi

step "environment"
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
  echo "cores: $(nproc)"
  g++ --version | head -1; cmake --version | head -1; ninja --version
  command -v nvcc >/dev/null && nvcc --version | tail -2 || echo "no nvcc on PATH"
  "$python" -c 'import torch, transformers; print("python", __import__("sys").version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'
  command -v pkg-config >/dev/null && echo "pkg-config $(pkg-config --version)" || echo "no pkg-config"
  echo "git $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
} > "$out/environment.txt" 2>&1
cat "$out/environment.txt"

step "unpacking .gpu/debs"
deps="$PWD/build-gpu-deps"
rm -rf "$deps" && mkdir -p "$deps"
for deb in .gpu/debs/*.deb; do
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$deb" "$deps"
  else   # a .deb is an ar archive holding data.tar.*
    "$python" - "$deb" "$deps" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], "rb").read()
at = 8
while at < len(data):
    name, size = data[at:at + 16].decode().strip().rstrip("/"), int(data[at + 48:at + 58].decode())
    if name.startswith("data.tar"):
        tarfile.open(fileobj=io.BytesIO(data[at + 60:at + 60 + size])).extractall(sys.argv[2])
    at += 60 + size + (size & 1)
PY
  fi
done
multiarch="$deps/usr/lib/x86_64-linux-gnu"
export PKG_CONFIG_LIBDIR="$multiarch/pkgconfig:$deps/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$deps"
export LD_LIBRARY_PATH="$multiarch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
pkg_config_arg=()
if ! command -v pkg-config >/dev/null; then
  pkg_config_arg=(-DPKG_CONFIG_EXECUTABLE="$deps/usr/bin/pkgconf")
fi

step "configuring the slim GPU build (build-gpu)"
cmake -S . -B build-gpu -G Ninja -DR1LAB_GPU_ONLY=ON -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$deps/usr" -DCMAKE_CXX_FLAGS="-isystem $deps/usr/include" \
  -DR1LAB_PYTHON="$python" -DR1LAB_DATA_DIR="$PWD/.gpu/data" "${pkg_config_arg[@]}" > "$out/configure.log" 2>&1 \
  || { tail -30 "$out/configure.log"; exit 1; }
grep "r1lab GPU build:" "$out/configure.log"
for found in $(grep "r1lab GPU build:" "$out/configure.log" | grep -o '/[^ ,]*'); do
  case "$found" in
    "$deps"*) ;;
    *) echo "gpu_check: a library came from $found, not from .gpu/debs" >&2; exit 1 ;;
  esac
done

if [ $dry_run = 1 ]; then
  step "building the tokenizer in build-gpu (headers and libraries from .gpu/debs), the GPU targets in build/"
  build=build
  { cmake --build build-gpu --target r1lab_tokenizer && cmake --build build --target r1lab_gpu_tests gpu_bench; } > "$out/build.log" 2>&1 \
    || { tail -30 "$out/build.log"; exit 1; }
  export R1LAB_TEST_DEVICE=cpu
else
  step "building build-gpu"
  build=build-gpu
  cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
  export R1LAB_TEST_DEVICE=cuda
fi

step "tests (label gpu) on $device"
tests_ok=1
(cd "$build" && ctest -L gpu --output-on-failure -j 2) > "$out/tests.log" 2>&1 || tests_ok=0
grep -E "tests passed|tests failed|Failed|Passed|Skipped|max abs|losses" "$out/tests.log" | tail -20 || true

step "benchmarks on $device"
work="$PWD/build-gpu-bench"
rm -rf "$work" && mkdir -p "$work"
quick=(); [ $dry_run = 1 ] && quick=(--quick)
"$build/bench/gpu_bench" --device "$device" --data-dir .gpu/data --work "$work" "${quick[@]}" > "$out/gpu_bench.jsonl" 2> "$out/gpu_bench.log" \
  || { tail -20 "$out/gpu_bench.log"; exit 1; }
: > "$out/peer.jsonl"
"$python" - "$out/gpu_bench.jsonl" <<'PY' | while read -r dir batch prompt new; do
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["bench"] == "batch":
        print(r["model_dir"], r["batch"], r["prompt_tokens"], r["new_tokens"])
PY
  result=$("$python" bench/gpu_generate_peer.py "$dir" "$batch" "$prompt" "$new" "$device" 2>> "$out/peer.log")
  echo "{\"model_dir\": \"$dir\", \"peer\": $result}" >> "$out/peer.jsonl"
done
rm -rf "$work"

step "summary"
"$python" - "$out" "$device" "$dry_run" "$tests_ok" <<'PY' | tee "$out/summary.md"
import json, pathlib, sys
out, device, dry_run, tests_ok = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
ours = [json.loads(line) for line in (out / "gpu_bench.jsonl").read_text().splitlines()]
peers = {r["model_dir"]: r["peer"] for r in map(json.loads, (out / "peer.jsonl").read_text().splitlines())}
floor = next(r for r in ours if r["bench"] == "floors")
print(f"# GPU check on {device}{' (dry run: tiny sizes, figures mean nothing)' if dry_run else ''}\n")
print(f"tests (label gpu): {'passed' if tests_ok else 'FAILED (tests.log)'}\n")
print(f"floors: copy bandwidth {floor['copy_bandwidth_gb_s']:.0f} GB/s, bf16 matmul {floor['bf16_matmul_tflop_s']:.1f} TFLOP/s\n")
print("| benchmark | r1lab | reference | ratio | target |")
print("|---|---:|---:|---:|---|")
for r in ours:
    if r["bench"] == "decode":
        print(f"| (a) decode, batch 1, {r['shape']}, {r['decode_steps']} steps | {r['tokens_per_s']:.1f} tok/s "
              f"| floor {r['bandwidth_floor_tokens_per_s']:.1f} tok/s "
              f"| {r['fraction_of_floor']:.2f} | >= 0.70 of the bandwidth floor |")
    elif r["bench"] == "batch":
        peer = peers.get(r["model_dir"], {}).get("tokens_per_s")
        ratio = f"{r['tokens_per_s'] / peer:.2f}x" if peer else "n/a"
        print(f"| (b) batch {r['batch']} x {r['new_tokens']} new, {r['shape']} | {r['tokens_per_s']:.0f} tok/s "
              f"| transformers {peer or 0:.0f} tok/s | {ratio} | >= 3x transformers |")
    elif r["bench"] == "sft":
        print(f"| (c) SFT step, {r['shape']}, {r['rows']} x {r['columns']} tokens | {r['tokens_per_s']:.0f} tok/s "
              f"| {r['model_tflop_s']:.1f} TFLOP/s | MFU {r['mfu']:.2f} | MFU >= 0.40 |")
    elif r["bench"] == "grpo":
        print(f"| (d) GRPO step, {r['shape']}, {r['prompts']} x {r['group_size']} x {r['new_tokens']} new | {r['step_s']:.2f} s "
              f"| rollouts {r['rollout_s']:.2f} s, train {r['train_s']:.2f} s, AdamW {r['optimizer_s']:.3f} s "
              f"| rollouts {r['rollout_fraction']:.0%} | time split (rewards: CPU, bench/run_grpo_bench.sh) |")
PY
step "done"
[ $tests_ok = 1 ]
