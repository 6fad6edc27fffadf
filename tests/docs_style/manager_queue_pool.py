"""A Manager's Queue handed to a Pool's tasks, as answers on Stack Overflow advise (a plain
multiprocessing.Queue cannot be pickled into a task; a manager's proxy can)."""
from multiprocessing import Manager, Pool, Queue


def produce(q, k):
    q.put(k * k)
    return k


if __name__ == "__main__":
    with Manager() as m:
        q = m.Queue()
        lock = m.Lock()
        with Pool(2) as pool:
            print(sorted(pool.starmap(produce, [(q, k) for k in range(5)])))
        print(sorted(q.get() for _ in range(5)), q.empty())
    plain = Queue()
    try:
        with Pool(1) as pool:
            pool.apply(produce, (plain, 1))
    except RuntimeError as e:
        print("RuntimeError:", e)
