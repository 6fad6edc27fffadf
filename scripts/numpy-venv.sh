#!/usr/bin/env bash
# Makes target/test-venv-numpy: python3's venv with NumPy (and Numba), for the tests that compare the
# emulation's NumPy kernels with real NumPy. Without python3 or the package index it says so in
# one line and exits 0: those tests then skip, and the closing line counts them.
set -uo pipefail
cd "$(dirname "$0")/.."
venv=target/test-venv-numpy
if "$venv/bin/python" -c "import numpy, numba" 2>/dev/null; then
    exit 0
fi
if ! command -v python3 >/dev/null; then
    echo "numpy-venv: no python3 here; the NumPy comparisons will skip"
    exit 0
fi
mkdir -p target
if [ -x "$venv/bin/python" ] || python3 -m venv "$venv"; then
    if "$venv/bin/python" -c "import numpy" 2>/dev/null || "$venv/bin/python" -m pip install -q numpy; then
        echo "numpy-venv: $venv has NumPy $("$venv/bin/python" -c 'import numpy; print(numpy.__version__)')"
    else
        echo "numpy-venv: could not install NumPy into $venv; the NumPy comparisons will skip"
    fi
    # Numba, so the text's numba_prange.py runs on the real CPython as it is written (the
    # emulation's stand-in is compared with Numba itself); without it that part skips.
    if "$venv/bin/python" -m pip install -q numba 2>/dev/null; then
        echo "numpy-venv: and Numba $("$venv/bin/python" -c 'import numba; print(numba.__version__)')"
    else
        echo "numpy-venv: could not install Numba into $venv; the real-Numba run will skip"
    fi
else
    echo "numpy-venv: could not make $venv; the NumPy comparisons will skip"
fi
exit 0
