"""The multiprocessing guide's examples, in their shape: a Process with a Queue, a Pipe,
shared Value and Array under a Lock, and a Manager's dict and list."""
from multiprocessing import Array, Lock, Manager, Pipe, Process, Queue, Value


def put_greeting(q):
    q.put([42, None, "hello"])


def send_over(conn):
    conn.send([42, None, "hello"])
    conn.close()


def add_many(total, lock, n):
    for _ in range(n):
        with lock:
            total.value += 1


def negate(arr):
    for i in range(len(arr)):
        arr[i] = -arr[i]


def fill(d, lst, k):
    d[k] = k * k
    lst.append(k)


if __name__ == "__main__":
    q = Queue()
    p = Process(target=put_greeting, args=(q,))
    p.start()
    print(q.get())
    p.join()

    parent, child = Pipe()
    p = Process(target=send_over, args=(child,))
    p.start()
    print(parent.recv())
    p.join()

    total = Value("i", 0)
    lock = Lock()
    workers = [Process(target=add_many, args=(total, lock, 200)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(total.value, [w.exitcode for w in workers])

    arr = Array("d", [1.0, 2.5, -3.0])
    p = Process(target=negate, args=(arr,))
    p.start()
    p.join()
    print(arr[:])

    with Manager() as manager:
        d = manager.dict()
        lst = manager.list()
        ps = [Process(target=fill, args=(d, lst, k)) for k in range(4)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(sorted(d.items()), sorted(lst))
