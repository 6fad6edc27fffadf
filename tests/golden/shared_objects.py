# multiprocessing's shared objects: a Queue between a producer process and the script, a Value
# under its own lock, an Array, an Event, and what a pool refuses to pickle.
import multiprocessing as mp
from multiprocessing import Process, Queue, Value, Array, Lock
import queue


def produce(q, n):
    for i in range(n):
        q.put(i * i)
    q.put(None)


def add_safely(counter, n):
    for _ in range(n):
        with counter.get_lock():
            counter.value += 1


def fill(arr, lock):
    for i in range(len(arr)):
        with lock:
            arr[i] = arr[i] * 2 + 1


def waiter(ev, q):
    ev.wait()
    q.put("event seen")


if __name__ == "__main__":
    q = Queue()
    p = Process(target=produce, args=(q, 5))
    p.start()
    got = []
    while True:
        item = q.get()
        if item is None:
            break
        got.append(item)
    p.join()
    print("queue:", got)

    counter = Value("i", 0)
    workers = [Process(target=add_safely, args=(counter, 200)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print("counter:", counter.value)

    arr = Array("d", [1.0, 2.0, 3.0])
    lock = Lock()
    f = Process(target=fill, args=(arr, lock))
    f.start()
    f.join()
    print("array:", arr[:], len(arr), list(arr))

    ev = mp.Event()
    q2 = Queue()
    w = Process(target=waiter, args=(ev, q2))
    w.start()
    print("is_set:", ev.is_set())
    ev.set()
    print(q2.get(timeout=10))
    w.join()

    try:
        Queue().get(timeout=0.05)
    except queue.Empty:
        print("empty raised")
    v = Value("d", 1.5)
    print(v.value, type(v).__name__)
    with mp.Pool(1) as pool:
        try:
            pool.map(produce, [(q, 1)])
        except RuntimeError as e:
            print("pool:", e)


from multiprocessing import Manager, Pool, Process


def record_square(shared, key, value):
    shared[key] = value * value


def collect(args):
    log, n = args
    log.append(n * 10)
    return n


if __name__ == "__main__":  # a Manager's dict and list, from processes and from a pool
    with Manager() as manager:
        results = manager.dict()
        log = manager.list([1])
        ps = [Process(target=record_square, args=(results, f"k{i}", i)) for i in range(3)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(sorted(results.items()), len(results), "k1" in results, results.get("zz", -1))
        with Pool(2) as pool:
            print(sorted(pool.map(collect, [(log, 1), (log, 2), (log, 3)])))
        print(sorted(log), len(log), log[0])
        results["extra"] = 7
        del results["k0"]
        print(sorted(results.keys()), ps[0].name)


from multiprocessing import Pipe


def pipe_child(conn):
    conn.send(["hello", 42])
    reply = conn.recv()
    conn.send(reply.upper())
    conn.close()


if __name__ == "__main__":  # a Pipe between the script and a process
    parent_end, child_end = Pipe()
    p = Process(target=pipe_child, args=(child_end,))
    p.start()
    print(parent_end.recv())
    parent_end.send("thanks")
    print(parent_end.poll(5), parent_end.recv())
    p.join()
    print(parent_end.poll(), p.exitcode)
    r, w = Pipe(duplex=False)
    w.send(1)
    print(r.recv())
