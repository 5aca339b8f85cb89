#!/usr/bin/env bash
# Creates .venv (Debian's python3 with venv) and installs the pinned test peers into it; a no-op when
# they are already there. Usage: scripts/setup_python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! dpkg-query -W -f='${Status}' python3-venv 2>/dev/null | grep -q "install ok installed"; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv
fi
stamp=.venv/.r1lab-requirements
if [ -f "$stamp" ] && cmp -s "$stamp" scripts/requirements-test.txt; then
  exit 0
fi
[ -x .venv/bin/python ] || /usr/bin/python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
cp scripts/requirements-test.txt "$stamp"
echo "setup_python: installed the test peers into .venv"
