"""Producer and consumers, in the style of the threading docs: a Condition guarding a list,
then the same with queue.Queue, task_done and join."""
import queue
import threading

items = []
cv = threading.Condition()
consumed = []


def consumer(n):
    for _ in range(n):
        with cv:
            cv.wait_for(lambda: items)
            consumed.append(items.pop(0))


c = threading.Thread(target=consumer, args=(5,), name="consumer")
c.start()
for i in range(5):
    with cv:
        items.append(i * i)
        cv.notify()
c.join()
print("condition:", consumed)

q = queue.Queue()
results = []
results_lock = threading.Lock()


def worker():
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            break
        with results_lock:
            results.append(item * 10)
        q.task_done()


workers = [threading.Thread(target=worker, daemon=True) for _ in range(3)]
for w in workers:
    w.start()
for item in range(10):
    q.put(item)
for _ in workers:
    q.put(None)
q.join()
print("queue:", sorted(results), q.empty(), q.qsize())
