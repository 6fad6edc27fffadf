"""Constructs a teacher may type, beyond what the demos need: compiled exactly as CPython 3.11."""
import time
import numpy as np
from numpy import zeros

LIMIT = 10
NAME = "gil"
SCALE = 2.5
FLAGS = [1, 2, 3]
counter = 0


def clamp(x, lo=0, hi=LIMIT):
    """Keep x within [lo, hi]."""
    if x < lo:
        return lo
    elif x > hi:
        return hi
    else:
        return x


def collatz(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def first_even(values):
    for v in values:
        if v % 2 == 0:
            return v
    return None


def logic(a, b, c):
    if a and b or not c:
        x = 1
    elif a is None or b is not None:
        x = 2
    else:
        x = -a
    y = a if b else c
    z = a < b < c
    w = a in FLAGS and b not in (1, 2)
    return x, y, z, w


def loops(n):
    total = 0
    i = 0
    while True:
        i += 1
        if i > n:
            break
        if i % 3:
            continue
        total += i
    for k in range(n):
        pass
    for k in [1, 2, 3]:
        total -= k
    return total


def arrays(n):
    u = zeros((n, n))
    u[0, 0] += 1.5
    u[1:, :] = 2.0
    s = u[0]
    a, b = u.shape
    a, b = b, a
    return u.sum() + a * b


def globals_and_calls():
    global counter
    counter = counter + 1
    d = {"name": NAME, "scale": SCALE}
    e = {NAME: 1}
    t = time.sleep(0)
    m = max(1, 2, 3) + min(4, 5) + abs(-2) + len(FLAGS)
    r = np.dot(zeros((2, 2)), zeros((2, 2)))
    return d, e, t, m, r, 2 ** 10, 7 // 2, -7 % 3, "a" + "b", 1 / 4


if __name__ == "__main__":
    print(clamp(12), collatz(27), first_even([1, 3, 4]), logic(1, 0, 2), loops(10))


def report_line(name, secs, n, ratio):
    head = f"{name}: {secs:.2f}s"
    tail = f"{n:,} items, {ratio:>8.1%} {name!r} " "done"
    debug = f"{n=} {secs=:.1f} {name:{n}}"
    return head + tail + debug + f"{n}"
