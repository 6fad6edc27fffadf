#!/usr/bin/env bash
# Makes the Debian roots that hold the CPythons this machine lacks, for the tests that check the
# GIL is read right on each: target/sid (debootstrap, about 40 s and 370 MB) with Debian's
# CPython 3.13, 3.14 and 3.15, and target/bullseye (about 40 s and 250 MB) with 3.9, the one
# Debian release with a CPython older than 3.11. Needs root; anywhere a root cannot be made it
# says why in one line and exits 0, and those tests skip.
set -uo pipefail
cd "$(dirname "$0")/.."

# make_root DIR SUITE PACKAGES NEEDED-BINARY: one debootstrap, unless DIR already has it.
make_root() {
  local root=$1 suite=$2 packages=$3 binary=$4
  if [ -x "$root/usr/bin/$binary" ]; then
    return 0
  fi
  mkdir -p target
  rm -rf "$root"
  if debootstrap --variant=minbase --include="$packages" "$suite" "$root" \
    >"target/$suite-debootstrap.log" 2>&1; then
    echo "sid-pythons: made $root with $(ls "$root"/usr/bin | grep -E '^python3\.[0-9]+$' | tr '\n' ' ')"
  else
    echo "sid-pythons: debootstrap of $suite failed (target/$suite-debootstrap.log); the tests on its CPythons will skip"
    rm -rf "$root"
  fi
}

if [ -x target/sid/usr/bin/python3.15 ] && [ -x target/sid/usr/bin/python3.13 ] \
  && [ -x target/bullseye/usr/bin/python3.9 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "sid-pythons: not root, so no Debian roots with CPython 3.9 and 3.13-3.15; those tests will skip"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
    echo "sid-pythons: debootstrap could not be installed; the tests on 3.9 and 3.13-3.15 will skip"
    exit 0
  }
fi
make_root target/sid sid python3.13,python3.14,python3.15 python3.15
make_root target/bullseye bullseye python3.9 python3.9
exit 0
