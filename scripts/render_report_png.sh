#!/usr/bin/env bash
# Renders `r1lab report --format html` to a PNG with headless Chromium, to look at the page as a reader
# would (docs/grading.md, Reports).
#
#   scripts/render_report_png.sh [-o OUT.png] [-w WIDTH] [-h HEIGHT] RUN... [-- REPORT ARGS...]
#
# RUN: what `r1lab report` takes (run folders, task folders, results.json files). Arguments after `--`
# go to `r1lab report` as they are (--paper table5, --label, --baseline ...). The HTML is written beside the
# PNG (OUT.html). Chromium: Debian package `chromium` (apt-get install -y chromium). R1LAB overrides the
# binary (default: build/r1lab of this checkout).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
r1lab="${R1LAB:-$here/build/r1lab}"
out="report.png"
width=1200
height=3000
runs=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -o) out="$2"; shift 2 ;;
    -w) width="$2"; shift 2 ;;
    -h) height="$2"; shift 2 ;;
    --) shift; break ;;
    *) runs+=("$1"); shift ;;
  esac
done
if [[ ${#runs[@]} -eq 0 ]]; then
  echo "usage: $0 [-o OUT.png] [-w WIDTH] [-h HEIGHT] RUN... [-- REPORT ARGS...]" >&2
  exit 2
fi
browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then
  echo "$0: no chromium on PATH; install it with: apt-get install -y chromium" >&2
  exit 2
fi

html="${out%.png}.html"
# A gate that fails exits 1 but still writes the page; show it anyway and pass the status on.
status=0
"$r1lab" report "${runs[@]}" --format html --out "$html" "$@" || status=$?
if [[ ! -s "$html" ]]; then
  echo "$0: r1lab report wrote no page (exit $status)" >&2
  exit "$status"
fi
# A private profile folder, so the screenshot neither reads nor leaves a user's browser state.
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$profile" \
  --window-size="$width,$height" --screenshot="$(realpath -m "$out")" "file://$(realpath "$html")" 2>/dev/null
echo "$out (from $html)"
exit "$status"
