"""A race and its fix, as threading tutorials show it: four threads add to a shared counter,
first without a lock (updates may be lost, more likely with a switch between read and write),
then with `with lock:` (never)."""
import threading
import time

ROUNDS = 20000
counter = 0
lock = threading.Lock()


def unsafe_add():
    global counter
    for _ in range(ROUNDS):
        value = counter
        time.sleep(0)  # a switch here loses the other threads' updates
        counter = value + 1


def safe_add():
    global counter
    for _ in range(ROUNDS):
        with lock:
            value = counter
            time.sleep(0)
            counter = value + 1


for work in (unsafe_add, safe_add):
    counter = 0
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lost = 4 * ROUNDS - counter
    # How many are lost changes from run to run; that some are, does not.
    print(f"{work.__name__}: lost updates {lost > 0}", counter if lost == 0 else "")
