#!/usr/bin/env bash
# Fuzzes what reads untrusted bytes (cargo fuzz, libFuzzer, on the nightly toolchain): the
# compiler, the interpreter with a step budget, the recording loader, the worker wire protocol
# and the real-CPython memory reader, each from its corpus in fuzz/corpus/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default: 60 s, every target)
#
# A crash is saved under fuzz/artifacts/TARGET/ and ends the script with a non-zero status;
# once fixed, the input goes to fuzz/regressions/TARGET/ with a test that reads it. The corpus
# grows in place (minimize it with `cargo +nightly fuzz cmin TARGET` before a commit).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(compile run recording wire memory)
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "skipped: fuzzing needs the nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  if ! cargo +nightly install cargo-fuzz --locked; then
    echo "skipped: cargo-fuzz could not be installed here"
    exit 0
  fi
fi
cd fuzz
# Release code with overflow checks and debug assertions on; panics are what is looked for.
cargo +nightly fuzz build -O -a --sanitizer none
for t in "${targets[@]}"; do
  echo "== fuzz $t for ${secs}s"
  mkdir -p "corpus/$t"
  # The inputs that once failed (fuzz/regressions/, each also a test) are read as seeds.
  seeds=()
  if [ -d "regressions/$t" ]; then seeds=("regressions/$t"); fi
  cargo +nightly fuzz run -O -a --sanitizer none "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -close_fd_mask=3 2>&1 | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|==|SUMMARY|Test unit written|panicked)" || true
  if ls "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-* >/dev/null 2>&1; then
    echo "fuzz $t: found a failing input:"
    ls "artifacts/$t"
    exit 1
  fi
done
