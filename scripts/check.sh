#!/usr/bin/env bash
# Runs exactly what CI runs: formatting, lints, every test (one release profile), and a real
# window under Xvfb that runs a preset and saves a screenshot.
set -euo pipefail
cd "$(dirname "$0")/.."

export WGPU_BACKEND=gl
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"

echo "== rustfmt"
cargo fmt --all --check
echo "== clippy"
cargo clippy --release --workspace --all-targets --locked -- -D warnings
echo "== tests"
mkdir -p target
cargo test --release --workspace --locked 2>&1 | tee target/test.log
echo "== real window under Xvfb"
scripts/window-check.sh
# One closing line with the real totals of every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed\n", p, f }' target/test.log
