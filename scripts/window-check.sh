#!/usr/bin/env bash
# Opens the real window under Xvfb, runs a preset to its end, saves the window as PNG, and
# checks the PNG: the proof on every CI run that the desktop app really works.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release/gilscope
[ -x "$bin" ] || cargo build --release --locked
out=target/window-check
mkdir -p "$out"
. scripts/display.sh 97

check_png() {
  python3 - "$1" "${2:-1200}" "${3:-800}" <<'PY'
import struct, sys, zlib
path, min_w, min_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert w >= min_w and h >= min_h, f"window too small: {w}x{h}"
# Decode and make sure the picture is not blank: many distinct colours.
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    if kind == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
colours = {raw[i:i + 3] for i in range(1, len(raw), 997)}
assert len(colours) > 20, f"looks blank: {len(colours)} colours"
print(f"{path}: {w}x{h}, {len(colours)} sampled colours: ok")
PY
}

# The preset's sweep measured in the window, written as CSV: at 1 worker, threads and processes
# run the same Python on one core, so the window must not skew one against the other. The skew
# this guards against was 1.6x (the drawing taking a core); a shared 2-core machine has shown
# 1.14x between two honest runs, so the bound is 1.3x. Each series' best repeat: interference
# (the software renderer on 2 cores) only slows a run.
"$bin" --preset threading-purepy --screenshot "$out/threading-purepy.png" --with-sweep \
  --csv "$out/threading-purepy-sweep.csv"
check_png "$out/threading-purepy.png"
python3 - "$out/threading-purepy-sweep.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
one = lambda mode: min(
    float(r["wall_secs"]) for r in rows if r["mode"] == mode and r["threads"] == "1")
t, p = one("threading"), one("multiprocessing")
ratio = max(t, p) / min(t, p)
assert ratio <= 1.30, f"the window's sweep at T=1: threading {t:.3} s vs processes {p:.3} s"
print(f"{sys.argv[1]}: T=1 threading {t:.3} s, multiprocessing {p:.3} s ({ratio:.2}x): ok")
PY
# A live run in the window, its summary written beside the picture: what the app and other
# programs used meanwhile is there, the workers of a GIL-bound run keep about one core busy,
# and the run's time is printed against the command line's for the same settings.
"$bin" --preset threading-purepy --screenshot "$out/live-run.png" --summary-json "$out/live-run.json"
check_png "$out/live-run.png"
"$bin" run --mode threading --kernel python --threads 2 --grid 30 --problems 40 --iters 30 \
  --json > "$out/live-run-cli.json"
python3 - "$out/live-run.json" "$out/live-run-cli.json" <<'PY'
import json, sys
win, cli = (json.load(open(p)) for p in sys.argv[1:3])
assert "app_cpu_secs" in win and "other_cpu_secs" in win, sorted(win)
cores = sum(w["cpu_secs"] for w in win["workers"]) / win["wall_secs"]
assert cores <= 1.25, f"a GIL-bound run's workers kept {cores:.2f} cores busy"
print(f"live run: window {win['wall_secs']:.3f} s vs command line {cli['wall_secs']:.3f} s "
      f"({win['wall_secs'] / cli['wall_secs']:.2f}x), workers {cores:.2f} cores, app "
      f"{win['app_cpu_secs']:.2f} s, others {win['other_cpu_secs']:.2f} s: ok")
PY
"$bin" --preset count-loop --screenshot "$out/count-loop.png"
check_png "$out/count-loop.png"
# A program other than heat.py, with its entry and parameters, in the real window.
"$bin" --preset bank-race --screenshot "$out/bank-race.png"
check_png "$out/bank-race.png"
# Interpreter variants: the free-threaded build (no GIL lane) and the refcount race.
"$bin" --preset free-threaded --screenshot "$out/free-threaded.png"
check_png "$out/free-threaded.png"
"$bin" --preset refcount-race --screenshot "$out/refcount-race.png"
check_png "$out/refcount-race.png"
# The real CPython on this machine, observed from outside, in the window (skipped without one).
if python3 -c 'import sys; assert sys.version_info >= (3, 8)' 2>/dev/null; then
  "$bin" --preset real-cpython --screenshot "$out/real-cpython.png"
  check_png "$out/real-cpython.png"
else
  echo "skipping the real-cpython window: no python3 3.8+"
fi
# A projector's 1280x720 and a classroom's 1920x1080 (the layout is asserted in tests/gui.rs).
for size in 1280x720 1920x1080; do
  "$bin" --preset threading-purepy --screenshot "$out/window-$size.png" --with-sweep --size "$size"
  check_png "$out/window-$size.png" "${size%x*}" "${size#*x}"
done
# A lesson in presentation mode: its trials run in the window and its verdict is drawn (lesson 6
# rests on lost updates, which any machine shows).
"$bin" --lesson 6 --presentation --size 1920x1080 --screenshot "$out/lesson-6.png"
check_png "$out/lesson-6.png" 1920 1080
# Attached to a Python gilscope did not start: its lanes stream in, Stop detaches, and the
# process runs on to its own end.
if python3 -c 'import sys; assert sys.version_info >= (3, 8)' 2>/dev/null; then
  python3 scripts/busy_threads.py &
  target_pid=$!
  sleep 0.5
  "$bin" --attach "$target_pid" --size 1280x720 --screenshot "$out/attach.png"
  check_png "$out/attach.png" 1280 720
  kill -0 "$target_pid" || { echo "the attached Python did not run on" >&2; exit 1; }
  kill "$target_pid"
else
  echo "skipping the attach window: no python3 3.8+"
fi
# Bad input to the window launcher is a usage error, not a window.
if "$bin" --preset nope --screenshot "$out/nope.png" 2>/dev/null; then
  echo "an unknown preset must fail" >&2
  exit 1
fi
[ ! -e "$out/nope.png" ]
echo "window check passed"
