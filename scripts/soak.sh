#!/usr/bin/env bash
# The long class: opens the real window under Xvfb and loops it through every preset's run and
# every lesson (some runs stopped midway) for MINUTES (default 30), as `gilscope --tour` does.
# After each step the app prints its resident memory, threads, open files and child processes;
# at the end it compares the round going on at 5 minutes with the last whole round (memory as
# each round's median over its steps) and exits 1 if memory grew over 10% or any count grew. Afterwards this script checks that no process the
# app started is left.
#
#   scripts/soak.sh [MINUTES] [WxH]     (default: 30 minutes, 1280x720; GILSCOPE_BIN=path
#                                        soaks that binary, a copy that a rebuild leaves alone)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
size="${2:-1280x720}"

bin="${GILSCOPE_BIN:-target/release/gilscope}"
[ -x "$bin" ] || cargo build --release --locked
. scripts/display.sh 96

echo "== soak: the window tours presets and lessons for $minutes min at $size"
status=0
WGPU_BACKEND=gl "$bin" --tour "$minutes" --size "$size" &
app=$!
wait "$app" || status=$?
# Anything still running whose parent was the app (reparented to init by now) or that runs
# gilscope's worker: left behind.
left=$(pgrep -f -- "gilscope __worker|gilscope-cpython-$app-" || true)
if [ -n "$left" ]; then
  echo "soak: processes left behind: $left"
  status=1
fi
left_dirs=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name "gilscope-cpython-$app-*" 2>/dev/null | wc -l)
if [ "$left_dirs" -ne 0 ]; then
  echo "soak: $left_dirs scratch folders left behind"
  status=1
fi
echo "== soak: exit $status"
exit "$status"
