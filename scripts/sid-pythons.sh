#!/usr/bin/env bash
# Makes target/sid: a Debian sid root (debootstrap, about 40 s and 370 MB) holding Debian's
# CPython 3.13, 3.14 and 3.15, for the tests that check the GIL is read right on each. Needs
# root; anywhere it cannot be made it says why in one line and exits 0, and those tests skip.
set -uo pipefail
cd "$(dirname "$0")/.."
root=target/sid
if [ -x "$root/usr/bin/python3.15" ] && [ -x "$root/usr/bin/python3.13" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "sid-pythons: not root, so no sid root with CPython 3.13-3.15; those tests will skip"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
    echo "sid-pythons: debootstrap could not be installed; the tests on 3.13-3.15 will skip"
    exit 0
  }
fi
mkdir -p target
rm -rf "$root"
if debootstrap --variant=minbase --include=python3.13,python3.14,python3.15 sid "$root" \
  >target/sid-debootstrap.log 2>&1; then
  echo "sid-pythons: made $root with $(ls "$root"/usr/bin | grep -E '^python3\.[0-9]+$' | tr '\n' ' ')"
else
  echo "sid-pythons: debootstrap failed (target/sid-debootstrap.log); the tests on 3.13-3.15 will skip"
  rm -rf "$root"
fi
exit 0
