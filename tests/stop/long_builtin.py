"""One builtin call that runs for hours: sum over a huge range in a thread and in the main
thread (CPython holds the GIL through it, and sees no signal until it returns)."""
import threading

worker = threading.Thread(target=lambda: print(sum(range(10**13))))
worker.start()
print(sum(range(3 * 10**13)))
worker.join()
