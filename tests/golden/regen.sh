#!/usr/bin/env bash
# Regenerates the golden `dis` listings from CPython 3.11's real `python3 -m dis`: for every
# program in assets/programs (and the files of constructs in tests/golden), the whole listing:
# the module's own code, then every code object under its "Disassembly of <code object ...>:".
# Run from the repository root: tests/golden/regen.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), "needs CPython 3.11, not " + sys.version' 
for f in assets/programs/heat.py assets/programs/count.py assets/programs/bank.py \
         assets/programs/download.py assets/programs/dot.py assets/programs/refcount.py \
         tests/golden/constructs.py tests/golden/calls.py tests/golden/scopes.py tests/golden/generators.py \
         tests/golden/exceptions.py tests/golden/classes.py tests/golden/sets.py \
         tests/golden/coroutines.py tests/golden/unpacking.py tests/golden/processes.py tests/golden/shared_objects.py tests/golden/bytes_text.py \
         tests/golden/legacy_names.py tests/golden/logging_threads.py tests/golden/stdlib_tools.py \
         tests/golden/async_sync.py tests/golden/spawned.py \
         tests/golden/async_cancel.py tests/golden/async_waiting.py tests/golden/annotations.py tests/golden/annotated.py \
         tests/golden/percent_format.py tests/golden/future_annotations.py \
         tests/golden/async_iteration.py tests/golden/bigints.py; do
  name=$(basename "$f" .py)
  python3 -m dis "$f" > "tests/golden/$name.dis"
  echo "wrote tests/golden/$name.dis"
done
# The source texts' example scripts.
for name in asyncio_downloads blot count_pool count_threads download numba_prange numpy_dot sum_squares; do
  python3 -m dis "tests/scripts/$name.py" > "tests/golden/seed-$name.dis"
  echo "wrote tests/golden/seed-$name.dis"
done
# A script with modules of its own: each file's listing beside it.
for f in tests/golden/imports/*.py; do
  python3 -m dis "$f" > "${f%.py}.dis"
  echo "wrote ${f%.py}.dis"
done
