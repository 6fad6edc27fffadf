# Never ends: a thread spins forever while the main thread blocks on an empty queue.
import threading, queue


def spin():
    while True:
        pass


threading.Thread(target=spin, daemon=True).start()
print("waiting", flush=True)
queue.Queue().get()
