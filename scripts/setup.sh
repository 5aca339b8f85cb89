#!/usr/bin/env bash
# Installs every Debian package the build needs (idempotent: apt runs only when something is missing),
# then configures and builds r1lab into build/. Usage: scripts/setup.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build ccache pkg-config git
          libginac-dev nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev libre2-dev
          libgtest-dev libgmock-dev libbenchmark-dev
          libboost-dev libboost-filesystem-dev bubblewrap python3 zlib1g-dev
          libcurl4-openssl-dev libsqlite3-dev libutf8proc-dev
          libgloo-dev)   # headers only: ProcessGroupGloo.hpp includes them; the code is in libtorch_cpu
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j "$(nproc)"
echo "setup: built build/r1lab"
