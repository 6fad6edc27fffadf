# Numba's decorators and prange as teaching code uses them: a parallel sum, a product, a
# private temporary, a loop that is not split, and nogil, all checked against plain loops.
from numba import jit, njit, prange
import numpy as np


@jit(nopython=True, parallel=True)
def sum_squares(arr):
    total = 0.0
    for i in prange(len(arr)):
        total += arr[i] ** 2
    return total


@njit(parallel=True)
def product_and_last(n):
    p = 1
    last = -1
    for i in prange(1, n + 1):
        p *= i
        last = i
    return p, last


@njit(parallel=True)
def fill(out):
    for i in prange(len(out)):
        t = i * 2.0
        out[i] = t + 1.0
    return out


@njit
def serial_sum(n):
    s = 0
    for i in range(n):
        s += i
    return s


@jit(nopython=True, nogil=True)
def count_down(n):
    while n > 0:
        n -= 1
    return n


arr = np.arange(1000.0)
plain = 0.0
for x in arr:
    plain += x**2
print(round(sum_squares(arr), 6), round(plain, 6))
print(product_and_last(20))
out = fill(np.zeros(10))
print([float(v) for v in out])
print(serial_sum(100), sum(range(100)))
print(count_down(10_000))
print(sum_squares.__name__, callable(sum_squares))


# A forked pool worker has the jitted functions too (a dispatcher pickles by reference); its
# prange loop runs on the worker's own thread there.
@njit(parallel=True)
def total(n):
    s = 0
    for i in prange(n):
        s += i
    return s


def in_a_process(n):
    return total(n)


from multiprocessing import Pool

with Pool(1) as pool:
    print(pool.map(in_a_process, [1000, 10]), total(1000))
