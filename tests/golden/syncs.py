"""threading.Event, BoundedSemaphore, Condition, Barrier, Timer and local, with main_thread, active_count and enumerate."""
import threading
import time

ready = threading.Event()
done = threading.Event()
log = []


def waiter(name):
    ready.wait()
    log.append(name)


ts = [threading.Thread(target=waiter, args=(f"w{i}",)) for i in range(3)]
for t in ts:
    t.start()
print("before set:", log, ready.is_set(), threading.active_count())
ready.set()
for t in ts:
    t.join()
print(sorted(log), ready.is_set(), done.wait(0.01), threading.active_count())

sem = threading.BoundedSemaphore(2)
inside = []
peak = []
lock = threading.Lock()


def limited(i):
    with sem:
        with lock:
            inside.append(i)
            peak.append(len(inside))
        time.sleep(0.01)
        with lock:
            inside.remove(i)


ts = [threading.Thread(target=limited, args=(i,)) for i in range(5)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("max inside:", max(peak))
try:
    sem.release()
except ValueError as e:
    print(e)

cond = threading.Condition()
items = []


def consume():
    with cond:
        cond.wait_for(lambda: len(items) >= 3)
        print("consumer sees", items)


c = threading.Thread(target=consume)
c.start()
for k in range(3):
    with cond:
        items.append(k)
        cond.notify()
c.join()

barrier = threading.Barrier(3)
order = []


def meet(i):
    barrier.wait()
    with lock:
        order.append(i)


ts = [threading.Thread(target=meet, args=(i,)) for i in range(3)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(sorted(order), threading.main_thread().name, [t.name for t in threading.enumerate()])

# threading.Timer and threading.local

fired = []
t = threading.Timer(0.05, fired.append, args=("late",))
t.start()
u = threading.Timer(5.0, fired.append, args=("never",))
u.start()
u.cancel()
t.join()
u.join()
print(fired, t.name, u.name)

data = threading.local()
data.x = "main"
seen = []


def worker(n):
    data.x = n
    time.sleep(0.01)
    seen.append(data.x)
    try:
        data.y
    except AttributeError as e:
        seen.append(str(e))


ts = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
for w in ts:
    w.start()
for w in ts:
    w.join()
print(sorted(map(str, seen)), data.x)
