#!/usr/bin/env bash
# Makes sure this machine has what the test command needs beyond Rust: Xvfb and xdpyinfo for
# the real-window check, Mesa's GL/EGL and xkbcommon for the window itself. As root with apt it
# installs what is missing; otherwise it names the packages in one line and exits non-zero.
set -euo pipefail

have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }

need=()
command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
command -v xdpyinfo >/dev/null 2>&1 || need+=(x11-utils)
have_lib libEGL.so.1 || need+=(libegl1)
have_lib libxkbcommon-x11.so.0 || need+=(libxkbcommon-x11-0)
compgen -G "/usr/lib/*/dri/swrast_dri.so" >/dev/null || need+=(libgl1-mesa-dri)
python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3 python3-venv)

[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "host-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  exit 0
fi
echo "host-deps: the test command needs these packages: ${need[*]} (install them, e.g. sudo apt-get install ${need[*]})" >&2
exit 1
