"""concurrent.futures.ThreadPoolExecutor as the Python docs use it: submit, map, as_completed."""
import concurrent.futures
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed


def square(n):
    return n * n, threading.current_thread().name


def fail(n):
    raise ValueError(f"bad {n}")


with ThreadPoolExecutor(max_workers=2) as ex:
    futures = [ex.submit(square, n) for n in range(4)]
    results = sorted(f.result()[0] for f in futures)
    names = sorted({f.result()[1] for f in futures})
print(results, 1 <= len(names) <= 2, all(n.startswith("ThreadPoolExecutor-0_") for n in names))
with ThreadPoolExecutor(max_workers=3, thread_name_prefix="pool") as ex:
    print(list(ex.map(lambda x: x + 1, [1, 2, 3])))
    print(sorted(f.result()[0] for f in as_completed([ex.submit(square, k) for k in (5, 6)])))
    bad = ex.submit(fail, 7)
    try:
        bad.result()
    except ValueError as e:
        print("raised:", e, repr(bad.exception()))
print(bad.done())
ex = concurrent.futures.ThreadPoolExecutor()
print(ex.submit(sum, [1, 2, 3]).result())
ex.shutdown()
try:
    ex.submit(print, "x")
except RuntimeError as e:
    print(e)


# wait(), add_done_callback and running().
import time as _time
from concurrent.futures import ThreadPoolExecutor, wait, FIRST_COMPLETED, ALL_COMPLETED


def slow(n):
    _time.sleep(n * 0.02)
    return n * 10


done_log = []
with ThreadPoolExecutor(max_workers=3) as ex:
    futures = [ex.submit(slow, n) for n in (3, 1, 2)]
    futures[0].add_done_callback(lambda f: done_log.append(("cb", f.result())))
    first, rest = wait(futures, return_when=FIRST_COMPLETED)
    print(len(first) >= 1, len(first) + len(rest))
    done, not_done = wait(futures, timeout=5, return_when=ALL_COMPLETED)
    print(sorted(f.result() for f in done), len(not_done))
    futures[1].add_done_callback(lambda f: done_log.append(("late", f.result())))
print(done_log, futures[2].running(), futures[2].done())


# A process pool's future: its done-callback runs once the script waits on it.
from concurrent.futures import ProcessPoolExecutor


def pp_square(x):
    return x * x


if __name__ == "__main__":
    pp_seen = []
    with ProcessPoolExecutor(max_workers=2) as pp:
        pf = pp.submit(pp_square, 7)
        pf.add_done_callback(lambda fut: pp_seen.append(fut.result()))
        print(pf.result())
    print(pp_seen)
