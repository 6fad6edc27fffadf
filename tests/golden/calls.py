"""Calls and parameters: keywords, defaults, *args and **kwargs, as teaching code writes them."""
import threading
import time


def work(n, step=1, *rest, scale=2.0, label, **options):
    total = 0
    for i in range(0, n, step):
        total += i
    return total * scale, rest, label, options


def positional_only(a, b=3, /, c=4):
    return a + b + c


def annotated(n: int, factor: float = 1.5) -> float:
    return n * factor


def calls(items, opts):
    a = work(10, label="ten")
    b = work(10, 2, 3, 4, label="x", scale=1.0, verbose=True)
    c = work(*items)
    d = work(*items, label="y")
    e = work(1, *items, 2, **opts)
    f = work(**opts)
    g = work(1, label="z", **opts, extra=1)
    print("a", "b", sep=", ", end="!\n")
    t = threading.Thread(target=work, args=(5,), kwargs={"label": "t"}, name="worker")
    items.sort(key=len, reverse=True)
    s = (*items, 1)
    l = [0, *items]
    return a, b, c, d, e, f, g, t, s, l, positional_only(1, c=2), annotated(2)


start = time.perf_counter()
t1 = threading.Thread(target=work, args=(100,), kwargs={"label": "t1"})
t1.start()
t1.join()
print(f"took {time.perf_counter() - start >= 0}", flush=True)
print(f"{'é'!a} {'x'!a} {1.5:.2e} {1e-7} {12345.678:,.1f} {0.25:.0%}")
if __name__ == "__main__":
    print(calls([3], {"label": "o"}))
