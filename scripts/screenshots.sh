#!/usr/bin/env bash
# Regenerates screenshots/: the real window (under Xvfb unless a display is set) and the
# slide exports the CLI writes. Numbers in them are measured on the machine that runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
bin=target/release/gilscope
out=screenshots
mkdir -p "$out"
. scripts/display.sh 98

# The window.
"$bin" --preset threading-purepy --with-sweep --screenshot "$out/window-threading-purepy.png"
"$bin" --preset threading-numpy --with-sweep --screenshot "$out/window-threading-numpy-sweep.png"
"$bin" --preset multiproc-numpy --screenshot "$out/window-multiproc-numpy.png"
"$bin" --preset io-threads --screenshot "$out/window-io-threads.png"
"$bin" --preset count-loop --with-sweep --screenshot "$out/window-count-loop.png"
"$bin" --preset bank-race --screenshot "$out/window-bank-race.png"
"$bin" --preset free-threaded --screenshot "$out/window-free-threaded.png"
"$bin" --preset refcount-race --screenshot "$out/window-refcount-race.png"
"$bin" --preset subinterpreters --screenshot "$out/window-subinterpreters.png"
"$bin" --preset starvation --screenshot "$out/window-starvation.png"
"$bin" --preset real-cpython --with-sweep --screenshot "$out/window-real-cpython.png"
# A pasted script, unchanged (the text's count loop), in each runtime at a projector's size.
seed=../shared/seed-scripts/count_threads.py
if [ -f "$seed" ]; then
  "$bin" --program "$seed" --size 1280x720 --screenshot "$out/script-count-threads-emulated.png"
  "$bin" --program "$seed" --runtime cpython --size 1280x720 --screenshot "$out/script-count-threads-cpython.png"
fi
python3 scripts/busy_threads.py &
target_pid=$!
sleep 0.5
"$bin" --attach "$target_pid" --size 1280x720 --screenshot "$out/window-attach.png"
kill "$target_pid" 2>/dev/null || true
# Lessons in presentation mode at a projector's 1920x1080 (each runs its trials first).
"$bin" --lesson 1 --presentation --size 1920x1080 --screenshot "$out/lesson-1-one-core.png"
"$bin" --lesson 5 --presentation --size 1920x1080 --screenshot "$out/lesson-5-starvation.png"
"$bin" --lesson 8 --presentation --size 1920x1080 --screenshot "$out/lesson-8-without-the-gil.png"
# A projector's and a classroom's screen, and presentation mode.
"$bin" --preset threading-purepy --with-sweep --size 1280x720 --screenshot "$out/window-1280x720.png"
"$bin" --preset threading-purepy --with-sweep --size 1920x1080 --screenshot "$out/window-1920x1080.png"
"$bin" --preset threading-purepy --size 1920x1080 --presentation --screenshot "$out/window-presentation.png"

# Slide exports from the CLI (same drawing code as the app's Export buttons).
"$bin" run --mode threading --kernel python --threads 2 --problems 40 \
  --timeline-png "$out/timeline-threading-python.png" --timeline-svg "$out/timeline-threading-python.svg" \
  --grid-png "$out/grid-threading-python.png" --trace "$out/trace-threading-python.json" >/dev/null
"$bin" run --mode multiprocessing --kernel python --threads 2 --problems 40 \
  --timeline-png "$out/timeline-multiprocessing-python.png" >/dev/null
"$bin" sweep --series threading:python,threading:numpy,multiprocessing:numpy,multiprocessing:python,native:numpy \
  --threads 1-4 --repeats 3 --problems 40 \
  --csv "$out/sweep.csv" --png "$out/sweep.png" --svg "$out/sweep.svg" | tee "$out/sweep.txt"
"$bin" sweep --program count --param N=20000000 --threads 1-4 --repeats 1 \
  --png "$out/sweep-count.png" | tee "$out/sweep-count.txt"
"$bin" sweep --series threading:python --interpreter gil,free-threaded,legacy-gil --threads 1-2 \
  --repeats 1 --problems 40 --png "$out/sweep-variants.png" >/dev/null
"$bin" sweep --program count --param N=5000000 --runtime emulated,cpython --threads 1-2 --repeats 1 \
  --png "$out/sweep-runtimes.png" >/dev/null
"$bin" dis assets/programs/bank.py > "$out/dis-bank.txt"
echo "screenshots written to $out/"
