"""Two threads counting for 20 s: a Python that gilscope did not start, for the window's
attach pictures (scripts/window-check.sh, scripts/screenshots.sh)."""
import threading
import time


def work():
    end = time.monotonic() + 20
    while time.monotonic() < end:
        pass


threads = [threading.Thread(target=work) for _ in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
