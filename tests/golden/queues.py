"""A producer and a consumer on a queue.Queue, and the other queues."""
import queue
import threading
import time

q = queue.Queue(maxsize=3)
results = []


def producer(n):
    for i in range(n):
        q.put(i)
    q.put(None)


def consumer():
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            break
        results.append(item * item)
        q.task_done()


threads = [threading.Thread(target=producer, args=(10,)), threading.Thread(target=consumer)]
for t in threads:
    t.start()
q.join()
for t in threads:
    t.join()
print(results)
try:
    q.get(timeout=0.05)
except queue.Empty:
    print("empty after timeout")
try:
    q.get_nowait()
except queue.Empty as e:
    print("empty now", repr(e))
lq = queue.LifoQueue()
pq = queue.PriorityQueue()
for x in (3, 1, 2):
    lq.put(x)
    pq.put((x, str(x)))
print([lq.get() for _ in range(3)], [pq.get() for _ in range(3)], pq.empty(), lq.qsize())
full = queue.Queue(1)
full.put("a")
try:
    full.put("b", block=False)
except queue.Full:
    print("full")
