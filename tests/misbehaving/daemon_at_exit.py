# Daemon threads still running at exit end with the program.
import threading, time

def forever():
    while True:
        time.sleep(0.01)

for _ in range(3):
    threading.Thread(target=forever, daemon=True).start()
time.sleep(0.05)
print("main ends while 3 daemon threads still run:", threading.active_count())
