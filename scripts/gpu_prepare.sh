#!/usr/bin/env bash
# Prepares .gpu/ on this (CPU) machine for scripts/gpu_check.sh on a GPU machine that has LibTorch, CMake,
# ninja and nvcc but no Debian dev packages and no network: the .deb files of the few libraries the slim
# GPU build needs (unpacked there, never installed), and the tokenizer files the GPU tests read. About
# 13 MB; .gpu/ is ignored by git and travels to the GPU machine as a carried path (docs/gpu.md).
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(nlohmann-json3-dev libutf8proc-dev libutf8proc2 libgtest-dev libbenchmark-dev libbenchmark1debian libgloo-dev
          pkgconf pkgconf-bin libpkgconf3)   # pkgconf: used there only when the machine has no pkg-config
mkdir -p .gpu/debs
cd .gpu/debs
if ! apt-get download "${packages[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get download "${packages[@]}" >/dev/null
fi
cd ../..
data="${R1LAB_DATA:-../shared/data}"
[ -d "$data/tokenizers/qwen3_tokenizer_npm" ] || { echo "gpu_prepare: no $data/tokenizers (set R1LAB_DATA)" >&2; exit 1; }
mkdir -p .gpu/data/tokenizers/chat_templates
cp -r "$data/tokenizers/qwen3_tokenizer_npm" .gpu/data/tokenizers/
cp "$data/tokenizers/chat_templates/Qwen-Qwen2.5-7B-Instruct.jinja" .gpu/data/tokenizers/chat_templates/
echo "gpu_prepare: .gpu/ holds $(ls .gpu/debs | wc -l) packages and the tokenizer ($(du -sh .gpu | cut -f1))"
