#!/usr/bin/env bash
# Runs exactly what CI runs: the host packages it needs (installed when root with apt), NumPy
# for the comparisons, CPython 3.9 and 3.13-3.15 in Debian roots (when root), formatting, lints, every test (one release profile), and a real window
# under Xvfb that runs a preset and saves a screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."

export WGPU_BACKEND=gl
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"

echo "== host packages"
scripts/host-deps.sh
echo "== NumPy for the comparisons with real NumPy"
scripts/numpy-venv.sh
echo "== CPython 3.9 and 3.13-3.15 in Debian roots, for the real-CPython runtime"
scripts/sid-pythons.sh
# The interpreters there need /proc: mounted for the tests, and always unmounted again.
mounted=()
for root in target/sid target/bullseye; do
  if [ -d "$root/proc" ] && [ "$(id -u)" -eq 0 ] && ! mountpoint -q "$root/proc"; then
    if mount -t proc proc "$root/proc" 2>/dev/null; then
      mounted+=("$root/proc")
    fi
  fi
done
unmount_roots() {
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || true; done
}
trap unmount_roots EXIT
echo "== rustfmt"
cargo fmt --all --check
echo "== clippy"
cargo clippy --release --workspace --all-targets --locked -- -D warnings
echo "== tests"
# A display for the tests that need one (the clipboard read back) and for the window check
# after them; the window tests themselves run headless.
if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null; then
  export DISPLAY=:96
  Xvfb "$DISPLAY" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
  trap 'unmount_roots; kill "$xvfb_pid" 2>/dev/null || true' EXIT
fi
mkdir -p target/tmp
export GILSCOPE_SKIP_LOG="$PWD/target/tmp/skipped-tests.log"
skips=$GILSCOPE_SKIP_LOG
rm -f "$skips"
cargo test --release --workspace --locked 2>&1 | tee target/test.log
echo "== real window under Xvfb"
scripts/window-check.sh
# One closing line with the real totals of every test binary, and the skips the tests recorded
# (a test that skipped part of its checks counts as passed and once more as a skip).
if [ -s "$skips" ]; then
  echo "== skipped"
  cat "$skips"
fi
nskip=$( [ -f "$skips" ] && wc -l <"$skips" || echo 0 )
awk -v s="$nskip" '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' target/test.log
