# Sourced by the scripts that open the real window (window-check.sh, screenshots.sh, soak.sh):
# a private XDG_RUNTIME_DIR, and, when no display is set, Xvfb at 1920x1080 on display :$1,
# waited for until it answers and stopped when the script exits.
#
#   . scripts/display.sh NUMBER
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
if [ -z "${DISPLAY:-}" ]; then
  export DISPLAY=":$1"
  Xvfb "$DISPLAY" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
  own_xvfb=$!
  trap 'kill "$own_xvfb" 2>/dev/null || true' EXIT
  for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done
fi
