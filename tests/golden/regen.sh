#!/usr/bin/env bash
# Regenerates the golden `dis` listings from CPython 3.11's real `python3 -m dis`: for every
# program in assets/programs (and tests/golden/constructs.py), the part after the module's own
# code, i.e. every function under its "Disassembly of <code object ...>:" header.
# Run from the repository root: tests/golden/regen.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c 'import sys; assert sys.version_info[:2] == (3, 11), "needs CPython 3.11, not " + sys.version' 
for f in assets/programs/heat.py assets/programs/count.py assets/programs/bank.py \
         assets/programs/download.py assets/programs/dot.py assets/programs/refcount.py \
         tests/golden/constructs.py; do
  name=$(basename "$f" .py)
  python3 -m dis "$f" | awk '/^Disassembly of/ { keep = 1 } keep' > "tests/golden/$name.dis"
  echo "wrote tests/golden/$name.dis"
done
