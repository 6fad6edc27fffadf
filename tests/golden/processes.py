# multiprocessing and ProcessPoolExecutor as teaching code uses them: pools, processes,
# results and exceptions crossing back, and fork's copy of the module namespace.
import os
import multiprocessing
from multiprocessing import Pool, Process, current_process
from concurrent.futures import ProcessPoolExecutor, as_completed

SCALE = 3
LOOKUP = {"a": 1, "b": 2}


def square(x):
    return x * x * SCALE


def add(a, b=10):
    return a + b


def whoami(_):
    return current_process().name.startswith("ForkPoolWorker"), os.getpid() != PARENT


def fails(x):
    if x == 3:
        raise ValueError(f"bad item {x}")
    return x


def lookup(key):
    return LOOKUP[key], SEEN


def report(label, n):
    print(f"{label}: child says {n * 2}")


def crash():
    raise KeyError("missing")


def leave(code):
    raise SystemExit(code)


PARENT = os.getpid()
SEEN = "before the pool"

if __name__ == "__main__":
    print(multiprocessing.get_start_method(), current_process().name)
    with Pool(2) as pool:
        SEEN = "after the pool started"
        print(pool.map(square, range(6)))
        print(pool.starmap(add, [(1, 2), (3, 4)]))
        print(pool.apply(add, (5,)), pool.apply(add, (5,), {"b": 1}))
        r = pool.apply_async(square, (7,))
        print(r.get(timeout=10), r.ready(), r.successful())
        print(sorted(pool.imap_unordered(square, [1, 2, 3])))
        print(list(pool.imap(square, [4, 5])))
        print(pool.map_async(add, [1, 2]).get())
        print(set(pool.map(whoami, range(4))))
        print(pool.map(lookup, ["a", "b"]))
        try:
            pool.map(fails, range(5))
        except ValueError as e:
            print("map raised", type(e).__name__, e)
    print(SEEN)

    p = Process(target=report, args=("one", 21))
    print(p.name, p.is_alive(), p.exitcode)
    p.start()
    p.join()
    print(p.name, p.is_alive(), p.exitcode)

    q = Process(target=leave, args=(3,), name="leaver")
    q.start()
    q.join()
    print(q.name, q.exitcode)

    with ProcessPoolExecutor(max_workers=2) as ex:
        futures = [ex.submit(square, n) for n in range(4)]
        print(sorted(f.result() for f in as_completed(futures)))
        print(list(ex.map(add, [1, 2], [3, 4])))
        bad = ex.submit(fails, 3)
        print(type(bad.exception()).__name__, bad.exception())

    try:
        with Pool(1) as pool:
            pool.map(lambda x: x, [1])
    except Exception as e:
        print("lambda:", type(e).__name__)
    print("done")
