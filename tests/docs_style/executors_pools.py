"""The concurrent.futures and multiprocessing examples of the docs, in their shape: a
ThreadPoolExecutor's map and as_completed, a Pool's map, and a ProcessPoolExecutor."""
import concurrent.futures
import math
from multiprocessing import Pool

NUMBERS = [1_000_003, 1_000_001, 999_983, 1_000_000_007, 2, 91]


def is_prime(n):
    if n < 2 or n % 2 == 0:
        return n == 2
    for i in range(3, math.isqrt(n) + 1, 2):
        if n % i == 0:
            return False
    return True


def square(x):
    return x * x


if __name__ == "__main__":
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
        print(list(ex.map(square, range(6))))
        futures = {ex.submit(is_prime, n): n for n in NUMBERS}
        done = sorted((futures[f], f.result()) for f in concurrent.futures.as_completed(futures))
        print(done)
    with Pool(3) as p:
        print(p.map(square, [1, 2, 3]))
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as ex:
        for n, prime in zip(NUMBERS, ex.map(is_prime, NUMBERS)):
            print(f"{n} is prime: {prime}")
