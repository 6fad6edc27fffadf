"""A semaphore that lets two threads in at a time and an event that starts them together,
as PyMOTW's threading examples do (with prints kept in order by the main thread)."""
import threading
import time

gate = threading.Event()
slots = threading.BoundedSemaphore(2)
inside = 0
most_inside = 0
count_lock = threading.Lock()


def visitor():
    global inside, most_inside
    gate.wait()
    with slots:
        with count_lock:
            inside += 1
            most_inside = max(most_inside, inside)
        time.sleep(0.01)
        with count_lock:
            inside -= 1


threads = [threading.Thread(target=visitor, name=f"visitor-{i}") for i in range(6)]
for t in threads:
    t.start()
print("waiting at the gate:", sum(t.is_alive() for t in threads))
gate.set()
for t in threads:
    t.join()
print("most inside at once:", most_inside, "inside now:", inside)
try:
    slots.release()
except ValueError as e:
    print("released too often:", e)
