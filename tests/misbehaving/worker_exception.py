# An exception in a worker thread: CPython reports it and the program goes on.
import threading

def fails(n):
    print(f"worker {n} starting")
    raise ValueError(f"bad input {n}")

t = threading.Thread(target=fails, args=(7,), name="Failing")
t.start()
t.join()
print("main goes on after the worker's exception")
