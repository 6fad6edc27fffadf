#!/usr/bin/env bash
# Makes target/test-venv-numpy: python3's venv with NumPy, for the tests that compare the
# emulation's NumPy kernels with real NumPy. Without python3 or the package index it says so in
# one line and exits 0: those tests then skip, and the closing line counts them.
set -uo pipefail
cd "$(dirname "$0")/.."
venv=target/test-venv-numpy
if "$venv/bin/python" -c "import numpy" 2>/dev/null; then
    exit 0
fi
if ! command -v python3 >/dev/null; then
    echo "numpy-venv: no python3 here; the NumPy comparisons will skip"
    exit 0
fi
mkdir -p target
if python3 -m venv "$venv" && "$venv/bin/python" -m pip install -q numpy; then
    echo "numpy-venv: made $venv with NumPy $("$venv/bin/python" -c 'import numpy; print(numpy.__version__)')"
else
    echo "numpy-venv: could not install NumPy into $venv; the NumPy comparisons will skip"
fi
exit 0
